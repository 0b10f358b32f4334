"""What the search engine indexes: plain documents, and their analysed form that is persisted.

The engine knows nothing of catalog entries or the ORM; `entries.py` turns an entry into a
`Document`. Segmenting is the expensive step, so the analysed form is what the registry keeps:
a restart rebuilds the index from it without running the segmenter again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from datapolis.catalog.search.analyzer import PIECE, cjk_runs, index_tokens, normalize


@dataclass(frozen=True)
class FieldSpec:
    weight: float  # how much a match here counts against a match in another field
    b: float  # BM25 length normalisation: 0 ignores the field's length, 1 divides by it


# name > tags > items > summary. A resource code matches as strongly as a name.
FIELDS: dict[str, FieldSpec] = {
    "name": FieldSpec(3.0, 0.5),
    "code": FieldSpec(3.0, 0.0),
    "tags": FieldSpec(2.0, 0.3),
    "items": FieldSpec(1.5, 0.5),
    "summary": FieldSpec(1.0, 0.75),
}


@dataclass(frozen=True)
class Document:
    """One thing to find: text per field (a list for fields of several values), facet values."""

    id: int
    fields: Mapping[str, str | Sequence[str]]
    facets: Mapping[str, str]


@dataclass(frozen=True)
class AnalyzedDocument:
    id: int
    tokens: dict[str, list[str]]  # field -> tokens in order, repeats kept
    runs: list[str]  # Chinese character runs of every field, for the bigram fallback
    facets: dict[str, str] = field(default_factory=dict)


def _field_tokens(value: str | Sequence[str]) -> list[str]:
    if isinstance(value, str):
        return index_tokens(value)
    tokens: list[str] = []
    for part in value:
        found = index_tokens(part)
        tokens.extend(found)
        # A tag or item name is also a word of its own: the tag 人口普查 finds 人口普查.
        whole = "".join(PIECE.findall(normalize(part)))
        if whole and len(found) > 1:
            tokens.append(whole)
    return tokens


def analyze(document: Document) -> AnalyzedDocument:
    unknown = set(document.fields) - FIELDS.keys()
    if unknown:
        raise ValueError(f"unknown search field(s): {', '.join(sorted(unknown))}")
    tokens = {name: _field_tokens(value) for name, value in document.fields.items()}
    runs: list[str] = []
    for value in document.fields.values():
        for part in [value] if isinstance(value, str) else value:
            runs.extend(cjk_runs(part))
    return AnalyzedDocument(document.id, tokens, runs, dict(document.facets))
