"""The index a serving process holds: loaded from the persisted tokens, kept current.

Before each search the process reads the registry's change counter (one indexed row); when
another process or this one committed changes since, it applies just those rows. The first
search of a process loads every row, after segmenting any entry that has no tokens yet or
tokens of another analyzer version (entries written before this slice, or a new dictionary).
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.search import store
from datapolis.catalog.search.analyzer import ANALYZER_VERSION
from datapolis.catalog.search.documents import analyze
from datapolis.catalog.search.entries import FACETS, HIDDEN_FACETS, document_of
from datapolis.catalog.search.index import SearchIndex
from datapolis.catalog.search.models import SearchDocument

BACKFILL_BATCH = 500


class LiveIndex:
    def __init__(self) -> None:
        self.index = SearchIndex((*FACETS, *HIDDEN_FACETS))
        self.seq = -1  # last change number applied; -1: not loaded
        self._lock = threading.Lock()

    def refresh(self, session: Session) -> SearchIndex:
        """The index with every change committed before this call applied."""
        if self.seq >= 0 and store.current_seq(session) <= self.seq:
            return self.index
        with self._lock:
            if self.seq < 0:
                engine = engine_of(session)
                backfill(engine)
                # A session of its own: the caller's may read an older snapshot (SQLite).
                with Session(engine) as fresh:
                    self._apply(fresh)
            else:
                self._apply(session)
        return self.index

    def _apply(self, session: Session) -> None:
        for seq, entry_id, document in store.changed_since(session, max(self.seq, 0)):
            if document is None:
                self.index.remove(entry_id)
            else:
                self.index.add(document)
            self.seq = max(self.seq, seq)
        self.seq = max(self.seq, 0)


def backfill(engine: Engine) -> int:
    """Segment and persist the entries without current tokens; how many there were."""
    done = 0
    with Session(engine) as session:
        current = select(SearchDocument.entry_id).where(and_(
            SearchDocument.analyzer == ANALYZER_VERSION, SearchDocument.deleted.is_(False)))
        missing = list(session.scalars(
            select(CatalogEntry.id).where(CatalogEntry.id.not_in(current))
            .order_by(CatalogEntry.id)))
        for start in range(0, len(missing), BACKFILL_BATCH):
            entries = session.scalars(
                select(CatalogEntry).where(
                    CatalogEntry.id.in_(missing[start:start + BACKFILL_BATCH]))
                .options(selectinload(CatalogEntry.items), selectinload(CatalogEntry.provider)))
            store.save(session, [analyze(document_of(entry)) for entry in entries])
            session.commit()
            done += len(missing[start:start + BACKFILL_BATCH])
    return done


_indexes: weakref.WeakKeyDictionary[Engine, LiveIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def live_index(session: Session) -> LiveIndex:
    """The one live index of this process for the registry `session` is bound to."""
    engine = engine_of(session)
    with _indexes_lock:
        live = _indexes.get(engine)
        if live is None:
            live = _indexes[engine] = LiveIndex()
        return live
