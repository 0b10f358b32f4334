"""Designating protected columns and keeping them encrypted: protect, unprotect, rekey,
rotate and retire keys. Every change is appended to the audit log.

Long operations take the `Registry` (not a session): they commit their designation first, so
landings start sealing new rows at once, then rewrite the existing rows batch by batch (see
rows.py) and commit the outcome. A run killed half-way is finished by running it again.
"""

# SQL here names only identifiers passed through TableName/quote_identifier; values travel as
# parameters.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.ingest.jobs import jobs_landing_in
from datapolis.ingest.seal import BLIND_INDEX_SUFFIX
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.security.audit import service as audit
from datapolis.security.crypto import PREFIX, Keyring
from datapolis.security.fields import keys, rows
from datapolis.security.fields.models import (
    CURRENT,
    ENCRYPTING,
    PROTECTED,
    UNPROTECTING,
    FieldKey,
    ProtectedColumn,
)
from datapolis.warehouse.engine import Engine, TableName, check_identifier, quote_identifier

LIVE = (ENCRYPTING, PROTECTED)  # states in which landings seal the column
SQL_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*(\(\d+(, ?\d+)?\))?$")


@dataclass(frozen=True)
class Protection:
    table: str
    column: str
    family: str
    plain_type: str
    state: str
    since: datetime
    by: str
    rows_encrypted: int

    @classmethod
    def of(cls, row: ProtectedColumn) -> Protection:
        return cls(row.table_name, row.column_name, row.family, row.plain_type, row.state,
                   row.since, row.by, row.rows_encrypted)


def protections(session: Session, table: str | None = None) -> list[Protection]:
    query = select(ProtectedColumn).order_by(ProtectedColumn.table_name,
                                             ProtectedColumn.column_name)
    if table is not None:
        query = query.where(ProtectedColumn.table_name == str(TableName.parse(table)))
    return [Protection.of(r) for r in session.scalars(query)]


def live_protections(session: Session, table: str) -> dict[str, Protection]:
    """The columns of `table` that landings seal, by column name."""
    return {p.column: p for p in protections(session, table) if p.state in LIVE}


def _find(session: Session, table: str, column: str) -> ProtectedColumn | None:
    return session.scalar(select(ProtectedColumn).where(
        ProtectedColumn.table_name == table, ProtectedColumn.column_name == column))


def _target(engine: Engine, table: str, column: str) -> tuple[str, str]:
    """The column's current warehouse type; refuses what cannot be protected."""
    name = str(TableName.parse(table))
    check_identifier(column, "column")
    check_identifier(column + BLIND_INDEX_SUFFIX, "blind-index column (the name is too long)")
    if column.endswith(BLIND_INDEX_SUFFIX):
        raise UserError(f"{column} is a blind-index column; protect the column it indexes")
    if not engine.table_exists(name):
        raise NotFound(f"no table {name} in the warehouse")
    types = {c.name: c.type for c in engine.columns(name)}
    if column not in types:
        raise NotFound(f"{name} has no column {column!r}")
    return name, types[column]


def _refuse_keys(session: Session, table: str, column: str) -> None:
    # Sync jobs merge on their key: ciphertext (a fresh nonce each time) would never match.
    for job in jobs_landing_in(session, table):
        if column in (job.table.primary_key or []):
            raise UserError(f"{column} is the merge key of sync job {job.code}; a key column "
                            "cannot be encrypted (protect the other sensitive columns)")


def protect(
    registry: Registry,
    engine: Engine,
    master: Keyring,
    *,
    table: str,
    column: str,
    family: str | None = None,
    actor: str,
    org: str | None = None,
    batch_rows: int = rows.DEFAULT_BATCH_ROWS,
    progress: rows.Progress | None = None,
    stop_after: int | None = None,
) -> Protection:
    """Designate a column and encrypt the rows already in it; running it again after a crash
    (or `stop_after`) resumes where it ended."""
    name, sql_type = _target(engine, table, column)
    with registry.session() as session:
        row = _find(session, name, column)
        if row is None:
            chosen = keys.check_family(family or column.lower())
            _refuse_keys(session, name, column)
            row = ProtectedColumn(table_name=name, column_name=column, family=chosen,
                                  plain_type=sql_type, state=ENCRYPTING, by=actor)
            session.add(row)
            audit.record(session, kind="field.protected", actor=actor, org=org, details={
                "table": name, "column": column, "family": chosen})
        elif row.state == PROTECTED:
            raise Conflict(f"{name}.{column} is already protected")
        elif row.state == UNPROTECTING:
            raise Conflict(f"{name}.{column} is being unprotected; run unprotect to finish")
        elif family is not None and family != row.family:
            raise Conflict(f"{name}.{column} is being protected in family {row.family!r}")
        keys.ensure_current(session, master, actor=actor)
        index = keys.blind_index(session, master, row.family, actor=actor)
        cipher = keys.cipher(session, master)
        chosen = row.family
    _prepare(engine, name, column, sql_type)
    target = rows.Target(name, column)
    rows.rewrite(
        engine, target, where=rows.PENDING, sets_index=True, batch_rows=batch_rows,
        progress=progress, stop_after=stop_after,
        change=lambda old: (cipher.encrypt(old, chosen), index.of(old)),
    )
    with registry.session() as session:
        stored = _find(session, name, column)
        assert stored is not None
        # Counted in the data, so a run that was interrupted is included.
        stored.rows_encrypted = rows.count(engine, target, rows.SEALED)
        if rows.count(engine, target, rows.PENDING) == 0:
            stored.state, stored.finished_at = PROTECTED, utcnow()
        return Protection.of(stored)


def _prepare(engine: Engine, table: str, column: str, sql_type: str) -> None:
    """Text type for the ciphertext and a companion blind-index column (idempotent)."""
    sql = TableName.parse(table).sql
    with engine.transaction():
        if sql_type != "VARCHAR":
            engine.execute(f"ALTER TABLE {sql} ALTER COLUMN {quote_identifier(column)} "
                           "TYPE VARCHAR")
        existing = {c.name for c in engine.columns(table)}
        if column + BLIND_INDEX_SUFFIX not in existing:
            engine.execute(f"ALTER TABLE {sql} ADD COLUMN "
                           f"{quote_identifier(column + BLIND_INDEX_SUFFIX)} VARCHAR")


def unprotect(
    registry: Registry,
    engine: Engine,
    master: Keyring,
    *,
    table: str,
    column: str,
    actor: str,
    org: str | None = None,
    batch_rows: int = rows.DEFAULT_BATCH_ROWS,
    progress: rows.Progress | None = None,
) -> int:
    """Decrypt the column back to its type, drop its index, end the designation; returns
    the rows decrypted. Resumable like `protect`."""
    name = str(TableName.parse(table))
    with registry.session() as session:
        row = _find(session, name, column)
        if row is None:
            raise NotFound(f"{name}.{column} is not protected")
        row.state = UNPROTECTING
        cipher = keys.cipher(session, master)
        family, plain_type = row.family, row.plain_type
    target = rows.Target(name, column)
    done = rows.rewrite(engine, target, where=rows.SEALED, sets_index=True,
                        batch_rows=batch_rows, progress=progress,
                        change=lambda old: (cipher.decrypt(old, family), None))
    sql = TableName.parse(name).sql
    with engine.transaction():
        engine.execute(f"ALTER TABLE {sql} DROP COLUMN "
                       f"{quote_identifier(column + BLIND_INDEX_SUFFIX)}")
        if plain_type != "VARCHAR" and SQL_TYPE.match(plain_type):
            engine.execute(f"ALTER TABLE {sql} ALTER COLUMN {quote_identifier(column)} "
                           f"TYPE {plain_type}")
    with registry.session() as session:
        stored = _find(session, name, column)
        if stored is not None:
            session.delete(stored)
        audit.record(session, kind="field.unprotected", actor=actor, org=org, details={
            "table": name, "column": column, "rows": done})
    return done


def rotate_key(session: Session, master: Keyring, *, actor: str, org: str | None = None
               ) -> FieldKey:
    """A new current field key: new writes use it, older ciphertexts stay readable."""
    previous = keys.ensure_current(session, master, actor=actor).key_id
    made = keys.rotate(session, master, actor=actor)
    audit.record(session, kind="field_key.rotated", actor=actor, org=org, details={
        "key": made.key_id, "previous": previous})
    return made


def rekey(
    registry: Registry,
    engine: Engine,
    master: Keyring,
    *,
    table: str,
    actor: str,
    org: str | None = None,
    batch_rows: int = rows.DEFAULT_BATCH_ROWS,
    progress: rows.Progress | None = None,
) -> int:
    """Re-encrypt a table's ciphertexts made with older keys under the current one."""
    name = str(TableName.parse(table))
    with registry.session() as session:
        found = live_protections(session, name)
        if not found:
            raise NotFound(f"{name} has no protected columns")
        cipher = keys.cipher(session, master)
    current = f"{PREFIX}:{cipher.current}:"

    def reencrypt(family: str) -> rows.Rewrite:
        return lambda old: (cipher.encrypt(cipher.decrypt(old, family), family), None)

    total = 0
    for column, protection in sorted(found.items()):
        total += rows.rewrite(
            engine, rows.Target(name, column),
            where=rows.SEALED + " AND NOT starts_with({value}, ?)", params=[current],
            sets_index=False, batch_rows=batch_rows, progress=progress,
            change=reencrypt(protection.family),
        )
    with registry.session() as session:
        audit.record(session, kind="field.rekeyed", actor=actor, org=org, details={
            "table": name, "columns": sorted(found), "rows": total, "key": cipher.current})
    return total


def key_usage(session: Session, engine: Engine) -> dict[str, dict[str, int]]:
    """How many ciphertexts each key id has made, per `table.column`, counted in the data."""
    usage: dict[str, dict[str, int]] = defaultdict(dict)
    for p in protections(session):
        if not engine.table_exists(p.table):
            continue
        target = rows.Target(p.table, p.column)
        counted = engine.query(
            f"SELECT split_part({target.value}, ':', 2) AS key_id, count(*) AS n "
            f"FROM {target.table_sql} WHERE {target.index} IS NOT NULL GROUP BY 1"
        )
        for key_id, n in zip(counted.column("key_id").to_pylist(),
                             counted.column("n").to_pylist(), strict=True):
            usage[str(key_id)][f"{p.table}.{p.column}"] = int(n)
    return dict(usage)


def retire_key(session: Session, engine: Engine, key_id: str, *, actor: str,
               org: str | None = None) -> FieldKey:
    """Destroy a rotated-away key; refused while any ciphertext still uses it."""
    if keys.get_key(session, key_id).state == CURRENT:
        raise Conflict(f"field key {key_id!r} is the current key; rotate first")
    used = key_usage(session, engine).get(key_id, {})
    if used:
        where = ", ".join(f"{column} {n:,}" for column, n in sorted(used.items()))
        raise Conflict(f"field key {key_id!r} still encrypts {sum(used.values()):,} value(s) "
                       f"({where}); run `datapolis security rekey TABLE` first")
    retired = keys.mark_retired(session, key_id, actor=actor)
    audit.record(session, kind="field_key.retired", actor=actor, org=org,
                 details={"key": key_id})
    return retired


def sealed_arrow(session: Session, master: Keyring, table: str, data: pa.Table) -> pa.Table:
    """`data` bound for `table` with its live protected columns encrypted and indexed."""
    found = live_protections(session, table)
    present = [c for c in data.column_names if c in found]
    if not present:
        return data
    cipher = keys.cipher(session, master)
    for column in present:
        family = found[column].family
        index = keys.existing_index(session, master, family)
        values = data.column(column)
        position = data.column_names.index(column)
        data = data.set_column(position, column, cipher.encrypt(values, family))
        companion = column + BLIND_INDEX_SUFFIX
        indexed = index.of(values)
        if companion in data.column_names:
            data = data.set_column(data.column_names.index(companion), companion, indexed)
        else:
            data = data.append_column(companion, indexed)
    return data
