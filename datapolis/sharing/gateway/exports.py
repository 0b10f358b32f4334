"""Bulk delivery: the granted rows matching a filter, written to CSV or Parquet off the request
path, then downloaded (streamed) while the grant is still live.

An export is counted in the grant's rows quota when it is asked for (its row count is known
before it is written), and recorded in the audit log as a data access when its file is done.
Files live under `<home>/share_exports/`.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi.responses import FileResponse
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from datapolis.orgs.models import Organisation
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.security.audit import kinds as audit_kinds
from datapolis.security.audit import service as audit_service
from datapolis.security.deid.plans import Plan, prepare
from datapolis.sharing.gateway import reads
from datapolis.sharing.gateway.calls import Answer, Context, json_answer
from datapolis.sharing.gateway.errors import Refused
from datapolis.sharing.gateway.interfaces import Work, charge_rows, view_of
from datapolis.sharing.gateway.models import Export
from datapolis.warehouse.engine import Engine, TableName

log = logging.getLogger(__name__)
FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
# At most this many exports are written at once; more wait their turn.
_writers = threading.BoundedSemaphore(2)


def directory(home: Path) -> Path:
    return home / "share_exports"


def _request(body: bytes) -> tuple[str, list[tuple[str, str]], str | None]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise Refused(400, "bad_request", "the body must be JSON: {\"format\": \"csv\", "
                      "\"where\": {...}, \"select\": [...]}") from None
    if not isinstance(data, dict):
        raise Refused(400, "bad_request", "the body must be a JSON object")
    fmt = data.get("format", "csv")
    if fmt not in FORMATS:
        raise Refused(400, "bad_request", f"format must be {' or '.join(FORMATS)}")
    where = data.get("where", {})
    if not isinstance(where, dict):
        raise Refused(400, "bad_request", "where must map filters to values")
    pairs: list[tuple[str, str]] = []
    for name, value in where.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool)
                   for v in values) or name in reads.RESERVED:
            raise Refused(400, "bad_request", f"filter {name!r} needs a value or a list")
        pairs += [(str(name), str(v)) for v in values]
    chosen = data.get("select")
    if chosen is not None and (not isinstance(chosen, list)
                               or not all(isinstance(c, str) for c in chosen)):
        raise Refused(400, "bad_request", "select must be a list of item columns")
    return fmt, pairs, ",".join(chosen) if chosen else None


def create(body: bytes) -> Work:
    def work(ctx: Context) -> Answer:
        grant = ctx.grant
        assert grant is not None
        fmt, pairs, chosen = _request(body)
        view = view_of(ctx)
        filters, _ = reads.parse_filters(pairs)
        plan = reads.selected(view, chosen)
        predicates, params = reads.where(ctx.session, ctx.gateway.keyring, view, filters)
        count_sql = f"SELECT count(*) FROM {TableName.parse(view.table).sql}"  # noqa: S608
        if predicates:
            count_sql += " WHERE " + " AND ".join(predicates)
        rows = int(ctx.warehouse.query(count_sql, params).column(0)[0].as_py())
        charge_rows(ctx, grant, rows)
        export = Export(code="E" + secrets.token_hex(8), app_id=ctx.caller.app_id,
                        grant_id=grant.id, resource_code=grant.resource_code, format=fmt,
                        filters={"where": pairs, "select": chosen}, state="queued", rows=rows)
        ctx.session.add(export)
        ctx.session.flush()
        job = _Job(export.code, ctx.request.app.state.registry, ctx.warehouse,
                   directory(ctx.gateway.settings.home), view, plan, predicates, params,
                   grant.code, fmt)
        consumer = ctx.session.get(Organisation, ctx.caller.org_id)
        job.actor = (f"app:{ctx.caller.app_key}", consumer.code if consumer else None)
        # Started once this transaction is committed, so the thread finds the row.
        event.listen(ctx.session, "after_commit",
                     lambda _s: ctx.gateway.spawn(f"share-export-{job.code}", job.run), once=True)
        answer = json_answer(_public(export), rows, status=202)
        return answer
    return work


def _public(export: Export) -> dict[str, Any]:
    base = f"/share/v1/{export.resource_code}/exports/{export.code}"
    return {"export": export.code, "state": export.state, "format": export.format,
            "rows": export.rows, "bytes": export.bytes, "error": export.error,
            "status_url": base, "file_url": f"{base}/file" if export.state == "done" else None}


def _own(session: Session, ctx: Context, code: str) -> Export:
    export = session.scalar(select(Export).where(Export.code == code))
    if export is None or export.app_id != ctx.caller.app_id or (
            ctx.grant is not None and export.resource_code != ctx.grant.resource_code):
        raise Refused(404, "not_found", f"no export {code!r} of yours on this resource")
    return export


def status(code: str) -> Work:
    def work(ctx: Context) -> Answer:
        return json_answer(_public(_own(ctx.session, ctx, code)), 0)
    return work


def download(code: str) -> Work:
    def work(ctx: Context) -> Answer:
        export = _own(ctx.session, ctx, code)
        if export.state != "done" or export.path is None:
            raise Refused(409, "bad_request", f"export {code} is {export.state}, not done")
        path = Path(export.path)
        if not path.is_file():
            raise Refused(410, "not_found", f"export {code}'s file is gone; ask again")
        size = path.stat().st_size
        response = FileResponse(path, media_type=FORMATS[export.format],
                                filename=f"{export.resource_code.replace('/', '-')}-{code}."
                                f"{export.format}")
        return Answer(response, rows=0, bytes=size)
    return work


def _writer(fmt: str, path: Path, schema: pa.Schema) -> pa_csv.CSVWriter | pq.ParquetWriter:
    return pa_csv.CSVWriter(path, schema) if fmt == "csv" else pq.ParquetWriter(path, schema)


def write_rows(engine: Engine, view: reads.View, plan: Plan, predicates: Sequence[str],
               params: Sequence[object], fmt: str, path: Path) -> int:
    """Write the plan's rows of the view matching `predicates`, in key order, to `path` as
    CSV or Parquet; returns how many rows were written."""
    # A bulk read: pseudonyms joined from the key's pseudonym tables (each value hashed
    # once, the join parallel), not the key's function called row by row.
    sources = prepare(engine, view.table, plan)
    sql = reads.select_sql(view, plan, predicates, order=True, limit=None, sources=sources)
    rows = 0
    writer: pa_csv.CSVWriter | pq.ParquetWriter | None = None
    try:
        for batch in engine.query_batches(sql, list(params)):
            table = pa.Table.from_batches([batch]).drop_columns([reads.KEY_ALIAS])
            if writer is None:
                writer = _writer(fmt, path, table.schema)
            writer.write_table(table)
            rows += table.num_rows
        if writer is None:  # no rows: still a file with the header
            writer = _writer(fmt, path, pa.schema([(c, pa.string()) for c in plan.columns]))
    finally:
        if writer is not None:
            writer.close()
    return rows


class _Job:
    def __init__(self, code: str, registry: Registry, engine: Engine, folder: Path,
                 view: reads.View, plan: Plan, predicates: Sequence[str],
                 params: Sequence[object], grant_code: str, fmt: str) -> None:
        self.code, self.registry, self.engine, self.folder = code, registry, engine, folder
        self.view, self.plan, self.predicates, self.params = view, plan, predicates, params
        self.grant_code, self.fmt = grant_code, fmt
        self.actor: tuple[str, str | None] = ("system", None)

    def run(self) -> None:
        with _writers:
            self._set(state="running")
            try:
                rows, size, path = self._write()
            except Exception as exc:  # recorded on the export; the thread must not die silently
                log.exception("export %s failed", self.code)
                self._set(state="failed", error=f"{exc.__class__.__name__}: {exc}"[:500],
                          finished_at=utcnow())
                return
            self._set(state="done", rows=rows, bytes=size, path=str(path),
                      finished_at=utcnow(), audit=rows)

    def _write(self) -> tuple[int, int, Path]:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{self.code}.{self.fmt}"
        partial = final.with_suffix(final.suffix + ".part")
        rows = write_rows(self.engine, self.view, self.plan, self.predicates, self.params,
                          self.fmt, partial)
        partial.replace(final)
        return rows, final.stat().st_size, final

    def _set(self, *, audit: int | None = None, **values: Any) -> None:
        with self.registry.session() as session:
            export = session.scalar(select(Export).where(Export.code == self.code))
            assert export is not None
            for name, value in values.items():
                setattr(export, name, value)
            if audit is not None:
                audit_service.act_as(session, *self.actor)
                audit_kinds.data_accessed(session, table=self.view.table, rows=audit,
                                          columns=self.plan.columns, grant=self.grant_code,
                                          interface="bulk")
