"""Persisting analysed documents in the registry and reading them back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from datapolis.catalog.search.analyzer import ANALYZER_VERSION
from datapolis.catalog.search.documents import AnalyzedDocument
from datapolis.catalog.search.models import SearchDocument, SearchState

STATE_ID = 1


def next_seq(session: Session) -> int:
    """Take the next change number. On PostgreSQL the row lock is held until commit, so
    change numbers become visible in order and a reader never skips one."""
    seq = session.execute(
        update(SearchState).where(SearchState.id == STATE_ID)
        .values(seq=SearchState.seq + 1).returning(SearchState.seq)
    ).scalar_one_or_none()
    if seq is None:
        session.add(SearchState(id=STATE_ID, seq=1))
        session.flush()
        return 1
    return int(seq)


def current_seq(session: Session) -> int:
    return session.scalar(select(SearchState.seq).where(SearchState.id == STATE_ID)) or 0


def save(
    session: Session, documents: Iterable[AnalyzedDocument], deleted: Iterable[int] = ()
) -> int:
    """Write `documents` and tombstones for `deleted` ids under one new change number."""
    documents = list(documents)
    deleted = [doc_id for doc_id in deleted if doc_id not in {d.id for d in documents}]
    if not documents and not deleted:
        return current_seq(session)
    seq = next_seq(session)
    wanted = [d.id for d in documents] + deleted
    existing = {row.entry_id: row for row in session.scalars(
        select(SearchDocument).where(SearchDocument.entry_id.in_(wanted)))}
    for document in documents:
        row = existing.get(document.id) or SearchDocument(entry_id=document.id)
        row.seq = seq
        row.analyzer = ANALYZER_VERSION
        row.deleted = False
        row.tokens = {name: " ".join(tokens) for name, tokens in document.tokens.items()}
        row.runs = " ".join(document.runs)
        row.facets = dict(document.facets)
        session.add(row)
    for doc_id in deleted:
        row = existing.get(doc_id) or SearchDocument(entry_id=doc_id)
        row.seq, row.analyzer, row.deleted = seq, ANALYZER_VERSION, True
        row.tokens, row.runs, row.facets = {}, "", {}
        session.add(row)
    session.flush()
    return seq


def changed_since(
    session: Session, seq: int, batch: int = 5_000
) -> Iterator[tuple[int, int, AnalyzedDocument | None]]:
    """(change number, entry id, document or None for a tombstone) written after `seq`."""
    query = select(
        SearchDocument.seq, SearchDocument.entry_id, SearchDocument.deleted,
        SearchDocument.tokens, SearchDocument.runs, SearchDocument.facets,
    ).where(SearchDocument.seq > seq).order_by(SearchDocument.seq, SearchDocument.entry_id)
    for row_seq, entry_id, deleted, tokens, runs, facets in session.execute(
        query.execution_options(yield_per=batch)
    ):
        document = None if deleted else AnalyzedDocument(
            id=entry_id,
            tokens={name: text.split() for name, text in tokens.items()},
            runs=runs.split(),
            facets=facets,
        )
        yield row_seq, entry_id, document
