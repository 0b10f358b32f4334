"""Keeping the persisted tokens current: every commit that changed entries rewrites theirs.

Listening to the ORM session (rather than asking every service function to remember) covers
each path that changes an entry: the service, imports, the lifecycle, item mappings. The
tokens are written in the same transaction as the change, so they never disagree with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry, InfoItem
from datapolis.catalog.search import store
from datapolis.catalog.search.documents import analyze
from datapolis.catalog.search.entries import document_of

_CHANGED = "catalog_search.changed"  # CatalogEntry objects changed in this transaction
_DELETED = "catalog_search.deleted"  # ids of entries deleted in this transaction


def _note(session: Session, entry: CatalogEntry | None) -> None:
    if entry is not None:
        session.info.setdefault(_CHANGED, {})[id(entry)] = entry


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, CatalogEntry):
            _note(session, obj)
        elif isinstance(obj, InfoItem):
            _note(session, obj.entry)
    for obj in session.deleted:
        if isinstance(obj, CatalogEntry) and obj.id is not None:
            session.info.setdefault(_DELETED, set()).add(obj.id)
        elif isinstance(obj, InfoItem) and obj.entry is not None:
            _note(session, obj.entry)


def _before_commit(session: Session) -> None:
    while session.info.get(_CHANGED) or session.info.get(_DELETED):
        session.flush()
        changed = session.info.pop(_CHANGED, {}).values()
        deleted: set[int] = session.info.pop(_DELETED, set())
        documents = []
        for entry in changed:
            state = inspect(entry)
            if state.was_deleted or state.deleted:
                deleted.add(entry.id)
                continue
            if state.detached or state.transient:
                continue
            documents.append(analyze(document_of(entry)))
        store.save(session, documents, deleted)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_DELETED, None)


def install() -> None:
    """Listen on every ORM session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _forget)
