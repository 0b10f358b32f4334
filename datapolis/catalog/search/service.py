"""`search_entries`: what the catalog's API and pages call."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.enums import LABELS, EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.search.entries import FACETS, NOT_OPEN, OPEN
from datapolis.catalog.search.highlight import highlight, snippet
from datapolis.catalog.search.live import live_index
from datapolis.catalog.search.query import parse_query
from datapolis.errors import UserError
from datapolis.orgs import service as orgs_service

MAX_PAGE_SIZE = 100
FACET_LABELS = {OPEN: "Open to the public", NOT_OPEN: "Not open to the public"}


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str  # an English msgid or a proper name; pages translate msgids
    count: int
    selected: bool


@dataclass(frozen=True)
class EntryHit:
    entry: CatalogEntry
    score: float
    name_html: Markup  # the name, query words in <mark>, HTML-escaped
    summary_html: Markup  # an excerpt of the summary around the first hit, likewise


@dataclass(frozen=True)
class SearchPage:
    query: str
    words: tuple[str, ...]
    total: int
    page: int
    size: int
    hits: list[EntryHit]
    facets: dict[str, list[FacetValue]]
    filters: dict[str, list[str]]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def _visible(provider_ids: set[int] | None) -> list[tuple[str, Collection[str]]] | None:
    if provider_ids is None:
        return None
    return [("status", [EntryStatus.PUBLISHED.value]),
            ("provider_id", [str(i) for i in provider_ids])]


def _labels(session: Session, facet: str, values: Collection[str]) -> dict[str, str]:
    if facet == "provider":
        return {org.code: org.name for org in orgs_service.list_organisations(session)
                if org.code in values}
    by_code = {str(member.value): label for member, label in LABELS.items()}
    return {value: FACET_LABELS.get(value) or by_code.get(value, value) for value in values}


def search_entries(
    session: Session,
    *,
    query: str | None = None,
    filters: Mapping[str, Collection[str]] | None = None,
    provider_ids: set[int] | None = None,
    page: int = 1,
    size: int = 20,
) -> SearchPage:
    """Entries matching every word of `query` and the facet `filters`, best first.

    `provider_ids` is the caller's visibility, as in `catalog.service.visible_filter`:
    published entries and every entry of these providers; None: every entry (reviewers).
    """
    if page < 1:
        raise UserError("page numbers start at 1")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise UserError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    parsed = parse_query(query)
    chosen = {name: sorted({v for v in values if v}) for name, values in (filters or {}).items()}
    chosen = {name: values for name, values in chosen.items() if values}
    unknown = set(chosen) - set(FACETS)
    if unknown:
        raise UserError(
            f"cannot filter by {', '.join(sorted(unknown))}; facets are {', '.join(FACETS)}")
    index = live_index(session).refresh(session)
    found = index.search(parsed, filters=chosen, visible=_visible(provider_ids),
                         offset=(page - 1) * size, limit=size, facets=FACETS)
    entries = {entry.id: entry for entry in session.scalars(
        select(CatalogEntry).where(CatalogEntry.id.in_([hit.id for hit in found.hits]))
        .options(selectinload(CatalogEntry.provider), selectinload(CatalogEntry.items)))}
    hits = [
        EntryHit(entries[hit.id], hit.score, highlight(entries[hit.id].name, parsed.words),
                 snippet(entries[hit.id].summary or "", parsed.words))
        for hit in found.hits if hit.id in entries
    ]
    facets = {}
    for name in FACETS:
        counts = dict(found.facets.get(name, {}))
        for value in chosen.get(name, []):
            counts.setdefault(value, 0)
        labels = _labels(session, name, counts)
        facets[name] = [FacetValue(value, labels.get(value, value), count,
                                   value in chosen.get(name, []))
                        for value, count in counts.items()]
    return SearchPage(parsed.text, parsed.words, found.total, page, size, hits, facets, chosen)
