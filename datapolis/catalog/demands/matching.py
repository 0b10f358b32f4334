"""Proposing supplying entries for a demand, through the catalog's search index.

A search asks for every word; a demand's title is longer than a query and says it loosely, so
each word of the title and of the wanted fields is looked up on its own and the hits are
combined:

    score = 0.5 × share of the demand's words the entry holds
          + 0.4 × share of the wanted fields the entry has as items (by normalised name)
          + 0.1 when the entry comes from the suggested provider

Only published entries are proposed: they are what a department can apply for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.demands.models import DataDemand
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.mapping import normalise
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.search import search_entries
from datapolis.catalog.search.analyzer import query_words
from datapolis.catalog.search.query import MAX_QUERY_WORDS

WORD_WEIGHT, FIELD_WEIGHT, PROVIDER_WEIGHT = 0.5, 0.4, 0.1
HITS_PER_WORD = 100
# Words nearly every entry holds (信息 is in most names): they would tie every candidate.
GENERIC_WORDS = frozenset({"信息", "数据", "资料", "情况", "相关", "基本", "明细", "清单"})


@dataclass(frozen=True)
class Candidate:
    entry: CatalogEntry
    score: float
    words: tuple[str, ...]  # the demand's words the entry holds
    fields: tuple[str, ...]  # the wanted fields it has as information items
    suggested_provider: bool


@dataclass
class _Tally:
    words: list[str] = field(default_factory=list)
    bm25: float = 0.0


def demand_words(demand: DataDemand) -> list[str]:
    words = query_words(demand.title)
    for wanted in demand.fields:
        words += query_words(wanted)
    return [w for w in dict.fromkeys(words) if w not in GENERIC_WORDS][:MAX_QUERY_WORDS]


def _field_matches(entry: CatalogEntry, wanted: list[str]) -> tuple[str, ...]:
    names = {normalise(item.name) for item in entry.items}
    names |= {normalise(item.column_name) for item in entry.items if item.column_name}
    names.discard("")
    found = []
    for name in wanted:
        key = normalise(name)
        if key and (key in names or any(key in n or n in key for n in names if len(n) > 1)):
            found.append(name)
    return tuple(found)


def propose(session: Session, demand: DataDemand, *, limit: int = 5) -> list[Candidate]:
    """The best published entries for `demand`, best first (ties: more BM25, then lower id)."""
    words = demand_words(demand)
    if not words:
        return []
    tallies: dict[int, _Tally] = {}
    published = {"status": [EntryStatus.PUBLISHED.value]}
    for word in words:
        found = search_entries(session, query=word, filters=published, provider_ids=None,
                               size=HITS_PER_WORD)
        for hit in found.hits:
            tally = tallies.setdefault(hit.entry.id, _Tally())
            tally.words.append(word)
            tally.bm25 += hit.score
    if not tallies:
        return []
    entries = {e.id: e for e in session.scalars(
        select(CatalogEntry).where(CatalogEntry.id.in_(tallies))
        .options(selectinload(CatalogEntry.items), selectinload(CatalogEntry.provider)))}
    ranked = []
    for entry_id, tally in tallies.items():
        entry = entries[entry_id]
        fields = _field_matches(entry, list(demand.fields))
        hinted = demand.provider_hint_id is not None and entry.provider_id == (
            demand.provider_hint_id)
        score = (WORD_WEIGHT * len(tally.words) / len(words)
                 + (FIELD_WEIGHT * len(fields) / len(demand.fields) if demand.fields else 0.0)
                 + (PROVIDER_WEIGHT if hinted else 0.0))
        ranked.append((Candidate(entry, round(score, 4), tuple(tally.words), fields, hinted),
                       tally.bm25))
    ranked.sort(key=lambda pair: (-pair[0].score, -pair[1], pair[0].entry.id))
    return [candidate for candidate, _ in ranked[:limit]]
