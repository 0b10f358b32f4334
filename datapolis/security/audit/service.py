"""Appending to the audit log and signing its checkpoints: the functions other slices call.

An event is the canonical JSON of {seq, prev, time, kind, actor, org, details}. `seq` is its
leaf index and `prev` the leaf hash of the event before it: the Merkle tree proves the log to
outsiders, and the chain lets `verify` say exactly which event was deleted, inserted or moved.
Appends lock the log's row (PostgreSQL: SELECT … FOR UPDATE; SQLite serialises writers), so
concurrent writers never fork the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from datapolis.errors import NotFound, UserError
from datapolis.registry.base import utcnow
from datapolis.security.audit import canonical, merkle
from datapolis.security.audit.models import AuditCheckpoint, AuditEvent, AuditLog
from datapolis.security.audit.signing import Checkpoint, Signer, checkpoint_note, iso

DEFAULT_LOG = "main"
DEFAULT_HASH = "sm3"
CHECKPOINT_EVERY_EVENTS = 1000
CHECKPOINT_EVERY_MINUTES = 10
SYSTEM_ACTOR = "system"
_ACTOR_KEY = "datapolis.audit.actor"


@dataclass(frozen=True)
class NewEvent:
    kind: str
    actor: str
    org: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def create_log(session: Session, *, name: str = DEFAULT_LOG, hash: str = DEFAULT_HASH) -> AuditLog:
    merkle.hasher(hash)  # refuses unknown names
    if session.scalar(select(AuditLog).where(AuditLog.name == name)) is not None:
        raise UserError(f"audit log {name!r} already exists")
    log = AuditLog(name=name, hash=hash, size=0, frontier=[], last_leaf="")
    session.add(log)
    session.flush()
    return log


def get_log(session: Session, name: str = DEFAULT_LOG, *, lock: bool = False) -> AuditLog:
    query = select(AuditLog).where(AuditLog.name == name)
    log = session.scalar(query.with_for_update() if lock else query)
    if log is None:
        raise NotFound(f"no audit log {name!r}")
    return log


def _log_for_append(session: Session, name: str) -> AuditLog:
    try:
        return get_log(session, name, lock=True)
    except NotFound:
        if name != DEFAULT_LOG:
            raise
        return create_log(session, name=name)


def append(session: Session, events: Iterable[NewEvent], *, log: str = DEFAULT_LOG) -> list[int]:
    """Append events in one batch; returns their sequence numbers."""
    target = _log_for_append(session, log)
    h = merkle.hasher(target.hash)
    frontier = [bytes.fromhex(node) for node in target.frontier]
    size, prev, now = target.size, target.last_leaf, utcnow()
    rows: list[dict[str, Any]] = []
    for event in events:
        canonical.check_value(dict(event.details))
        moment = event.at or now
        body = {"seq": size, "prev": prev, "time": iso(moment), "kind": event.kind,
                "actor": event.actor, "org": event.org, "details": event.details}
        text = canonical.dumps(body)
        leaf = merkle.leaf_hash(h, text)
        prev = leaf.hex()
        rows.append({"log_id": target.id, "seq": size, "recorded_at": moment, "kind": event.kind,
                     "actor": event.actor, "org": event.org, "canonical": text.decode(),
                     "leaf_hash": prev})
        size = merkle.append(h, frontier, size, leaf)
    if rows:
        session.execute(insert(AuditEvent), rows)
        target.size, target.last_leaf = size, prev
        target.frontier = [node.hex() for node in frontier]
        session.flush()
    return [row["seq"] for row in rows]


def act_as(session: Session, actor: str, org: str | None) -> None:
    """Say who acts through this unit of work (the request's principal, the CLI's operator).

    Service functions then record their events without every caller passing the actor down:
    a route or verb added later is attributed correctly by construction.
    """
    session.info[_ACTOR_KEY] = (actor, org)


def acting(session: Session) -> tuple[str, str | None]:
    """Who acts through this session: set by `act_as`, else the platform itself (scheduler)."""
    found: tuple[str, str | None] = session.info.get(_ACTOR_KEY, (SYSTEM_ACTOR, None))
    return found


def record(
    session: Session,
    *,
    kind: str,
    actor: str | None = None,
    org: str | None = None,
    details: Mapping[str, Any] | None = None,
    log: str = DEFAULT_LOG,
) -> int:
    """Append one security-relevant event in the caller's transaction; returns its number.

    Without `actor`, the actor and organisation are whoever `act_as` named for the session.
    """
    if actor is None:
        actor, acting_org = acting(session)
        org = org if org is not None else acting_org
    return append(session, [NewEvent(kind, actor, org, details or {})], log=log)[0]


def checkpoints(session: Session, log: AuditLog) -> list[Checkpoint]:
    rows = session.scalars(
        select(AuditCheckpoint).where(AuditCheckpoint.log_id == log.id)
        .order_by(AuditCheckpoint.size)
    )
    return [Checkpoint(log=log.name, hash=log.hash, size=r.size, root=r.root,
                       signed_at=iso(r.signed_at), key_id=r.key_id, signature=r.signature)
            for r in rows]


def checkpoint(session: Session, signer: Signer, *, log: str = DEFAULT_LOG) -> Checkpoint:
    """Sign the current tree head (size + root), unless it is already signed."""
    target = get_log(session, log, lock=True)
    latest = session.scalar(
        select(AuditCheckpoint).where(AuditCheckpoint.log_id == target.id)
        .order_by(AuditCheckpoint.size.desc()).limit(1)
    )
    if latest is not None and latest.size == target.size:
        return checkpoints(session, target)[-1]
    h = merkle.hasher(target.hash)
    root = merkle.frontier_root(h, [bytes.fromhex(n) for n in target.frontier]).hex()
    now = utcnow()
    signature = signer.sign(checkpoint_note(target.name, target.hash, target.size, root, iso(now)))
    session.add(AuditCheckpoint(log_id=target.id, size=target.size, root=root, signed_at=now,
                                key_id=signer.key_id, signature=signature))
    session.flush()
    return Checkpoint(log=target.name, hash=target.hash, size=target.size, root=root,
                      signed_at=iso(now), key_id=signer.key_id, signature=signature)


def checkpoint_if_due(
    session: Session,
    signer: Signer,
    *,
    log: str = DEFAULT_LOG,
    every_events: int = CHECKPOINT_EVERY_EVENTS,
    every_minutes: int = CHECKPOINT_EVERY_MINUTES,
) -> Checkpoint | None:
    """Sign a checkpoint when `every_events` events or `every_minutes` minutes have passed since
    the last one (and there is something new to sign)."""
    target = session.scalar(select(AuditLog).where(AuditLog.name == log))
    if target is None or target.size == 0:
        return None
    latest = session.scalar(
        select(AuditCheckpoint).where(AuditCheckpoint.log_id == target.id)
        .order_by(AuditCheckpoint.size.desc()).limit(1)
    )
    signed_size = latest.size if latest else 0
    since = latest.signed_at if latest else target.created_at
    if target.size == signed_size:
        return None
    if target.size - signed_size < every_events and utcnow() - since < timedelta(
        minutes=every_minutes
    ):
        return None
    return checkpoint(session, signer, log=log)


def search_events(
    session: Session,
    *,
    log: str = DEFAULT_LOG,
    kind: str | None = None,
    actor: str | None = None,
    org: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Events newest first, filtered by exact kind, actor and organisation and a time range."""
    target = get_log(session, log)
    query = select(AuditEvent).where(AuditEvent.log_id == target.id)
    for column, value in ((AuditEvent.kind, kind), (AuditEvent.actor, actor),
                          (AuditEvent.org, org)):
        if value:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEvent.recorded_at >= since)
    if until is not None:
        query = query.where(AuditEvent.recorded_at < until)
    query = query.order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))

