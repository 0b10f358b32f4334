"""The interfaces every granted resource publishes: lookup by key, filtered query with cursor
paging, and batch lookup. Each is a work function for `calls.run`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from datapolis.catalog.models import CatalogEntry
from datapolis.orgs.models import Organisation
from datapolis.security.deid.keys import consumer_key
from datapolis.sharing.gateway import reads
from datapolis.sharing.gateway.calls import Answer, Context, json_answer
from datapolis.sharing.gateway.errors import Refused
from datapolis.sharing.grants.service import ActiveGrant
from datapolis.sharing.metering import params_hash
from datapolis.sharing.metering.limits import quota_day
from datapolis.warehouse.engine import TableName, quote_identifier

DEFAULT_PAGE = 100
Work = Callable[[Context], Answer]


def key_column(entry: CatalogEntry) -> str:
    """A resource's key: its first information item (base libraries put their key first)."""
    for item in sorted(entry.items, key=lambda i: i.position):
        if item.column_name:
            return item.column_name
    raise Refused(404, "not_found", f"resource {entry.resource_code} has no items")


def view_of(ctx: Context) -> reads.View:
    grant = ctx.grant
    assert grant is not None

    def build() -> reads.View:
        entry = ctx.session.get(CatalogEntry, grant.entry_id)
        consumer = ctx.session.get(Organisation, grant.consumer_org_id)
        assert entry is not None and consumer is not None
        return reads.build_view(
            ctx.session, ctx.warehouse, grant_id=grant.id, table=grant.table,
            key=key_column(entry),
            items=[(i.column, i.method, i.params) for i in grant.items],
            scope_text=grant.row_scope,
            consumer_key=consumer_key(ctx.gateway.settings.secret_key, consumer.code))

    view: reads.View = ctx.gateway.grants.view(grant.id, build)
    return view


def records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as answered: without the raw key that came along for cursors and batches."""
    for row in rows:
        row.pop(reads.KEY_ALIAS, None)
    return rows


def charge_rows(ctx: Context, grant: ActiveGrant, rows: int) -> None:
    """Refuse an answer that would take the grant past its rows for today."""
    if grant.rows_per_day is None or rows == 0:
        return
    _calls, used = ctx.meter.usage(grant.id, quota_day(ctx.call.request_at))
    if used + rows > grant.rows_per_day:
        raise Refused(429, "quota_rows", f"this answer's {rows} rows would pass the grant's "
                      f"{grant.rows_per_day} rows for today ({used} used)")


def _key_filter(view: reads.View, values: Sequence[str]) -> reads.Filter:
    if view.key not in view.granted and not view.protected_key:
        raise Refused(403, "item_not_granted", f"the resource's key {view.key!r} is not an item "
                      "your grant covers; use the filtered query on granted items")
    return reads.Filter(view.key, "eq" if len(values) == 1 else "in", tuple(values))


def lookup(key: str) -> Work:
    def work(ctx: Context) -> Answer:
        grant = ctx.grant
        assert grant is not None
        view = view_of(ctx)
        predicates, params = reads.where(ctx.session, ctx.gateway.keyring, view,
                                         [_key_filter(view, [key])])
        data = reads.read(ctx.warehouse, view, view.plan, predicates, params, limit=1,
                          order=False, key=False)
        if not data:
            if view.scope_sql and _exists_outside_scope(ctx, view, key):
                # Told apart in the call record (for the alerts), never in the answer.
                raise Refused(404, "not_found", f"no record with key {key!r} in your grant",
                              recorded="row_scope")
            raise Refused(404, "not_found", f"no record with key {key!r} in your grant")
        charge_rows(ctx, grant, 1)
        return json_answer({"resource": grant.resource_code, "record": records(data)[0]}, 1)
    return work


def _exists_outside_scope(ctx: Context, view: reads.View, key: str) -> bool:
    bare = reads.View(view.grant_id, view.table, view.key, view.plan, view.types, None, (),
                      view.protected_key)
    predicates, params = reads.where(ctx.session, ctx.gateway.keyring, bare,
                                     [_key_filter(view, [key])])
    sql = (f"SELECT 1 FROM {TableName.parse(view.table).sql} WHERE "  # noqa: S608
           + " AND ".join(predicates) + " LIMIT 1")
    return bool(ctx.warehouse.query(sql, params).num_rows > 0)


def query(pairs: Sequence[tuple[str, str]]) -> Work:
    def work(ctx: Context) -> Answer:
        grant = ctx.grant
        assert grant is not None
        view = view_of(ctx)
        filters, reserved = reads.parse_filters(pairs)
        limit = _limit(reserved.get("limit"), ctx.gateway.settings.share_page_rows)
        plan = reads.selected(view, reserved.get("select"))
        fingerprint = params_hash({"filters": sorted((f.column, f.op, f.values)
                                                     for f in filters),
                                   "select": reserved.get("select")})
        predicates, params = reads.where(ctx.session, ctx.gateway.keyring, view, filters)
        if "cursor" in reserved:
            last = reads.open_cursor(ctx.gateway.keyring, view, reserved["cursor"], fingerprint)
            predicates.append(f"{quote_identifier(view.key)} > ?")
            params.append(last)
        data = reads.read(ctx.warehouse, view, plan, predicates, params, limit=limit + 1)
        more = len(data) > limit
        page = data[:limit]
        charge_rows(ctx, grant, len(page))
        following = None
        if more:
            last_key = page[-1][reads.KEY_ALIAS]
            following = reads.make_cursor(ctx.gateway.keyring, view, last_key, fingerprint)
        return json_answer({"resource": grant.resource_code, "records": records(page),
                            "next_cursor": following}, len(page))
    return work


def _limit(text: str | None, most: int) -> int:
    if text is None:
        return min(DEFAULT_PAGE, most)
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise Refused(400, "bad_request", f"limit must be a whole number from 1 to {most}")
    return int(text)


def batch(body: bytes) -> Work:
    def work(ctx: Context) -> Answer:
        grant = ctx.grant
        assert grant is not None
        most = ctx.gateway.settings.share_batch_keys
        keys = _keys(body, most)
        view = view_of(ctx)
        predicates, params = reads.where(ctx.session, ctx.gateway.keyring, view,
                                         [_key_filter(view, keys)])
        # A key names one record; the bound only stops a key column that is not unique
        # from turning a batch into a bulk pull.
        data = reads.read(ctx.warehouse, view, view.plan, predicates, params,
                          limit=len(keys) * 10, order=True)
        charge_rows(ctx, grant, len(data))
        found = {str(row[reads.KEY_ALIAS]) for row in data}  # records() drops the key
        answer: dict[str, Any] = {"resource": grant.resource_code, "records": records(data)}
        if not view.protected_key:
            answer["missing"] = [k for k in keys if str(reads.typed(view, view.key, k))
                                 not in found]
        return json_answer(answer, len(data))
    return work


def _keys(body: bytes, most: int) -> list[str]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        raise Refused(400, "bad_request", "the body must be JSON: {\"keys\": [...]}") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys or not all(
            isinstance(k, str | int) and not isinstance(k, bool) for k in keys):
        raise Refused(400, "bad_request", "the body must be {\"keys\": [...]} with 1 or more "
                      "strings or numbers")
    if len(keys) > most:
        raise Refused(413, "bad_request", f"a batch may ask for at most {most} keys, "
                      f"not {len(keys)}")
    return list(dict.fromkeys(str(k) for k in keys))
