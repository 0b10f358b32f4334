"""Grants: create, change, revoke, and the one question the gateway asks on every call —
`active_grant(app, resource, now)`.

Revocation and expiry take effect on the next call: `active_grant` reads the registry and
checks the validity window against `now`; a gateway that caches its answers keys the cache by
`grants_generation()`, which moves on every grant change committed in this process, and by
`sync_generation(session)` for changes committed by another process (the CLI).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.enums import EntryStatus, ShareType
from datapolis.catalog.models import CatalogEntry
from datapolis.errors import Conflict, NotFound, UserError
from datapolis.orgs.models import ApiApp, Organisation, OrgKind
from datapolis.registry.base import utcnow
from datapolis.security.audit import kinds as audit_kinds
from datapolis.security.audit import service as audit
from datapolis.sharing import scope as scopes
from datapolis.sharing.grants import items as grant_items
from datapolis.sharing.grants.items import GrantedItem
from datapolis.sharing.grants.models import Grant, GrantItem, ShareCounter

__all__ = ["ActiveGrant", "GrantedItem", "active_grant", "grants_generation"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
Methods = Mapping[str, tuple[str, Mapping[str, int | str]]]


@dataclass(frozen=True)
class ActiveGrant:
    id: int
    code: str
    entry_id: int
    resource_code: str
    table: str
    provider_org_id: int
    consumer_org_id: int
    app_id: int
    items: tuple[GrantedItem, ...]
    row_scope: str | None
    calls_per_day: int | None
    rows_per_day: int | None
    rate_per_second: float | None
    valid_from: datetime
    valid_until: datetime | None


@dataclass(frozen=True)
class Limits:
    calls_per_day: int | None = None
    rows_per_day: int | None = None
    rate_per_second: float | None = None

    def checked(self) -> Limits:
        for name in ("calls_per_day", "rows_per_day", "rate_per_second"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise UserError(f"{name} must be above zero (leave it out for no limit)")
        return self


# --- the generation counter ----------------------------------------------------------------

_lock = threading.Lock()
_generation = 0
_seen_stored: int | None = None


def _bump_local() -> None:
    global _generation
    with _lock:
        _generation += 1


def grants_generation() -> int:
    """Moves on every grant create/change/revoke in this process (also after its commit)."""
    return _generation


def stored_generation(session: Session) -> int:
    """The registry's grant counter, which every process's grant changes move."""
    return int(session.scalar(select(ShareCounter.value).where(ShareCounter.name == "grants"))
               or 0)


def sync_generation(session: Session) -> int:
    """Moves `grants_generation()` if another process changed a grant since the last look."""
    global _seen_stored
    stored = stored_generation(session)
    with _lock:
        if _seen_stored is not None and stored != _seen_stored:
            global _generation
            _generation += 1
        _seen_stored = stored
    return _generation


def _changed(session: Session) -> None:
    session.execute(update(ShareCounter).where(ShareCounter.name == "grants")
                    .values(value=ShareCounter.value + 1))
    _bump_local()
    # Again once committed: a cache filled between now and the commit holds the old state.
    event.listen(session, "after_commit", lambda _s: _bump_local(), once=True)


# --- reading -------------------------------------------------------------------------------


def status(grant: Grant, now: datetime) -> str:
    """active | revoked | expired | pending (not yet valid)."""
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until is not None and grant.valid_until <= now:
        return "expired"
    if grant.valid_from > now:
        return "pending"
    return "active"


def get_grant(session: Session, code: str) -> Grant:
    grant = session.scalar(select(Grant).where(Grant.code == code)
                           .options(selectinload(Grant.items)))
    if grant is None:
        raise NotFound(f"no grant {code!r}")
    return grant


def list_grants(session: Session, *, org_ids: set[int] | None = None,
                entry_id: int | None = None, app_id: int | None = None) -> list[Grant]:
    """Grants whose provider or consumer is in `org_ids` (None: every grant), newest first."""
    query = select(Grant).options(selectinload(Grant.items)).order_by(Grant.id.desc())
    if org_ids is not None:
        query = query.where(or_(Grant.provider_org_id.in_(org_ids),
                                Grant.consumer_org_id.in_(org_ids)))
    if entry_id is not None:
        query = query.where(Grant.entry_id == entry_id)
    if app_id is not None:
        query = query.where(Grant.app_id == app_id)
    return list(session.scalars(query))


def _candidates(session: Session, app_id: int, resource_code: str) -> list[Grant]:
    return list(session.scalars(
        select(Grant).join(CatalogEntry, CatalogEntry.id == Grant.entry_id)
        .where(Grant.app_id == app_id, CatalogEntry.resource_code == resource_code)
        .options(selectinload(Grant.items)).order_by(Grant.id.desc())))


def active_grant(session: Session, *, app_id: int, resource_code: str,
                 now: datetime) -> ActiveGrant | None:
    """The app's live grant on the resource, its items under today's security policy; None
    when there is none (absent, revoked, expired, not yet valid, app revoked, entry retired)."""
    live = [g for g in _candidates(session, app_id, resource_code) if status(g, now) == "active"]
    if not live:
        return None
    grant = live[0]
    entry = session.get(CatalogEntry, grant.entry_id)
    app = session.get(ApiApp, app_id)
    if (entry is None or entry.status != EntryStatus.PUBLISHED or not entry.warehouse_table
            or app is None or app.revoked_at is not None):
        return None
    stored = [GrantedItem(i.column, i.method, dict(i.params)) for i in grant.items]
    items = grant_items.effective(grant_items.policy(session, entry), stored)
    if not items:
        return None
    return ActiveGrant(
        id=grant.id, code=grant.code, entry_id=entry.id, resource_code=entry.resource_code,
        table=entry.warehouse_table, provider_org_id=grant.provider_org_id,
        consumer_org_id=grant.consumer_org_id, app_id=grant.app_id, items=items,
        row_scope=grant.row_scope, calls_per_day=grant.calls_per_day,
        rows_per_day=grant.rows_per_day, rate_per_second=grant.rate_per_second,
        valid_from=grant.valid_from, valid_until=grant.valid_until)


def refusal(session: Session, *, app_id: int, resource_code: str, now: datetime) -> str:
    """Why there is no live grant, in the shared error vocabulary: no_grant, grant_expired or
    grant_revoked (the newest grant decides)."""
    found = _candidates(session, app_id, resource_code)
    if not found:
        return "no_grant"
    state = status(found[0], now)
    return {"revoked": "grant_revoked", "expired": "grant_expired"}.get(state, "no_grant")


# --- writing -------------------------------------------------------------------------------


def entry_columns(entry: CatalogEntry) -> list[str]:
    return [item.column_name for item in entry.items if item.column_name]


def check_scope(entry: CatalogEntry, text: str | None) -> str | None:
    """The scope in canonical text, or None for every row; ScopeError when it is not valid."""
    if text is None or not text.strip():
        return None
    return scopes.to_text(scopes.parse(text, entry_columns(entry)))


def county_of(org: Organisation) -> Organisation | None:
    """The county (or street) an organisation belongs to, None for city and province level."""
    node: Organisation | None = org
    while node is not None:
        if node.kind in (OrgKind.COUNTY, OrgKind.STREET):
            return node
        if node.kind == OrgKind.CITY:
            return None
        node = node.parent
    return None


def default_scope(entry: CatalogEntry, consumer: Organisation) -> str | None:
    """A county consumer sees its own division's rows (when the table has a division column)."""
    county = county_of(consumer)
    if county is None:
        return None
    return scopes.division_scope(entry_columns(entry), county.division_code)


def check_shareable(entry: CatalogEntry) -> None:
    if entry.status != EntryStatus.PUBLISHED:
        raise Conflict(f"resource {entry.resource_code} is {entry.status.value}, not published; "
                       "only published resources are shared")
    if entry.share_type == ShareType.NOT_SHARED:
        raise Conflict(f"resource {entry.resource_code} is not shared (不予共享) and cannot be "
                       "requested")
    if not entry.warehouse_table:
        raise Conflict(f"resource {entry.resource_code} has no warehouse table to share")


def check_app(app: ApiApp, consumer: Organisation) -> None:
    if app.org_id != consumer.id:
        raise UserError(f"app {app.app_key} belongs to another organisation")
    if app.revoked_at is not None:
        raise Conflict(f"app {app.app_key} is revoked")


def check_window(valid_from: datetime, valid_until: datetime | None) -> None:
    if valid_until is not None and valid_until <= valid_from:
        raise UserError("the validity period ends before it starts")


def _code(grant: Grant) -> str:
    return f"G{grant.created_at.astimezone(SHANGHAI):%Y%m%d}{grant.id:05d}"


def create_grant(
    session: Session, *, entry: CatalogEntry, consumer: Organisation, app: ApiApp,
    columns: Sequence[str], methods: Methods | None = None,
    row_scope: str | None = None, limits: Limits | None = None, valid_from: datetime | None = None,
    valid_until: datetime | None = None, actor: str,
) -> Grant:
    """A grant of `columns` of the entry to the consumer's app. Everything is checked first:
    the entry is published and shared, the app is the consumer's, each item may leave under
    its method, the scope parses against the entry's columns."""
    check_shareable(entry)
    check_app(app, consumer)
    items = grant_items.choose(grant_items.policy(session, entry), columns, methods)
    scope = check_scope(entry, row_scope)
    now = utcnow()
    start = valid_from or now
    check_window(start, valid_until)
    limits = (limits or Limits()).checked()
    grant = Grant(code=f"pending-{secrets.token_hex(8)}", entry_id=entry.id,
                  provider_org_id=entry.provider_id, consumer_org_id=consumer.id, app_id=app.id,
                  row_scope=scope, calls_per_day=limits.calls_per_day,
                  rows_per_day=limits.rows_per_day, rate_per_second=limits.rate_per_second,
                  valid_from=start, valid_until=valid_until, created_by=actor, created_at=now)
    grant.items = [GrantItem(position=n, column=i.column, method=i.method, params=dict(i.params))
                   for n, i in enumerate(items)]
    session.add(grant)
    session.flush()
    grant.code = _code(grant)
    session.flush()
    audit_kinds.grant_created(
        session, grant=grant.code, resource=entry.resource_code, grantee=consumer.code,
        fields=[i.column for i in items],
        expires=valid_until.astimezone(SHANGHAI).date().isoformat() if valid_until else None)
    _changed(session)
    return grant


def change_grant(
    session: Session, grant: Grant, *, row_scope: object = ...,
    limits: Limits | None = None, valid_until: object = ...,
    methods: Methods | None = None, actor: str,
) -> Grant:
    """Change a live grant's scope, limits, end or items' methods (never below the policy)."""
    if grant.revoked_at is not None:
        raise Conflict(f"grant {grant.code} is revoked")
    entry = session.get(CatalogEntry, grant.entry_id)
    assert entry is not None
    changed: list[str] = []
    if methods:
        columns = [i.column for i in grant.items]
        current = {i.column: (i.method, dict(i.params)) for i in grant.items}
        chosen = grant_items.choose(grant_items.policy(session, entry), columns,
                                    {**current, **methods})
        for stored, item in zip(grant.items, chosen, strict=True):
            stored.method, stored.params = item.method, dict(item.params)
        changed.append("items")
    if row_scope is not ...:
        grant.row_scope = check_scope(entry, row_scope if isinstance(row_scope, str) else None)
        changed.append("row_scope")
    if limits is not None:
        limits = limits.checked()
        grant.calls_per_day, grant.rows_per_day = limits.calls_per_day, limits.rows_per_day
        grant.rate_per_second = limits.rate_per_second
        changed.append("limits")
    if valid_until is not ...:
        end = valid_until if isinstance(valid_until, datetime) else None
        check_window(grant.valid_from, end)
        grant.valid_until = end
        changed.append("valid_until")
    if changed:
        session.flush()
        audit.record(session, kind="grant.changed", details={
            "grant": grant.code, "resource": entry.resource_code, "changed": changed,
            "row_scope": grant.row_scope,
            "items": [f"{i.column}:{i.method}" for i in grant.items]})
        _changed(session)
    return grant


def revoke_grant(session: Session, grant: Grant, *, actor: str, reason: str | None = None
                 ) -> Grant:
    if grant.revoked_at is not None:
        raise Conflict(f"grant {grant.code} is already revoked")
    entry = session.get(CatalogEntry, grant.entry_id)
    consumer = session.get(Organisation, grant.consumer_org_id)
    assert entry is not None and consumer is not None
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = utcnow(), actor, reason
    session.flush()
    audit_kinds.grant_revoked(session, grant=grant.code, resource=entry.resource_code,
                              grantee=consumer.code, reason=reason)
    _changed(session)
    return grant
