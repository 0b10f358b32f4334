"""Reading protected columns: plaintext for authorised callers, equality through the blind
index for everyone who queries, and the column withheld from everyone else.

Unauthorised and public readers never see ciphertext: `withhold` takes a de-identification
plan (security/deid) and moves every protected column and its blind index into the plan's
withheld columns, so the column is not read at all. The sharing slice and the portal call it
on what `view_for` returns.
"""

# SQL here names only identifiers passed through TableName/quote_identifier; values travel as
# parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import pyarrow as pa
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.ingest.seal import BLIND_INDEX_SUFFIX
from datapolis.orgs.permissions import Permission
from datapolis.security.audit import service as audit
from datapolis.security.crypto import Keyring
from datapolis.security.deid.plans import Plan
from datapolis.security.fields import keys
from datapolis.security.fields.service import SQL_TYPE, live_protections, protections
from datapolis.warehouse.engine import Engine, TableName, quote_identifier


class NotAllowed(UserError):
    status_code = 403


class Reader(Protocol):
    """Who reads (orgs.deps.Principal fits)."""

    @property
    def name(self) -> str: ...

    def can(self, permission: Permission) -> bool: ...


def withheld_columns(session: Session, table: str) -> list[str]:
    """What a reader without plaintext rights must not get: protected columns and indexes."""
    found = protections(session, table)
    return sorted({p.column for p in found} | {p.column + BLIND_INDEX_SUFFIX for p in found})


def withhold(session: Session, table: str, plan: Plan) -> Plan:
    """`plan` with the table's protected columns withheld instead of read."""
    hidden = set(withheld_columns(session, table))
    if not hidden:
        return plan
    rules = tuple(rule for rule in plan.rules if rule.column not in hidden)
    withheld = tuple(dict.fromkeys([*plan.withheld,
                                    *(c for c in sorted(hidden) if c not in plan.withheld)]))
    return replace(plan, rules=rules, withheld=withheld)


def condition(session: Session, master: Keyring, table: str, column: str,
              value: object) -> tuple[str, list[object]]:
    """SQL for `column = value` on `table`: through the blind index when the column is
    protected, so a lookup never decrypts a row. Returns (predicate, parameters)."""
    protected = live_protections(session, str(TableName.parse(table)))
    if column in protected:
        index = keys.existing_index(session, master, protected[column].family)
        return f"{quote_identifier(column + BLIND_INDEX_SUFFIX)} = ?", [index.one(value)]
    return f"{quote_identifier(column)} = ?", [value]


def lookup(session: Session, engine: Engine, master: Keyring, *, table: str, column: str,
           value: object, limit: int = 1000) -> pa.Table:
    """Rows of `table` where `column = value`, as stored (protected columns still sealed)."""
    predicate, params = condition(session, master, table, column, value)
    return engine.query(f"SELECT * FROM {TableName.parse(table).sql} WHERE {predicate} "
                        "LIMIT ?", [*params, limit])


def plaintext(session: Session, engine: Engine, master: Keyring, reader: Reader, *,
              table: str, data: pa.Table) -> pa.Table:
    """`data` read from `table` with its protected columns decrypted to their original type
    and the blind indexes dropped; only for readers allowed to see protected values. The
    access is audited (table, columns, rows; never the values)."""
    if not reader.can(Permission.READ_PROTECTED):
        raise NotAllowed(f"permission {Permission.READ_PROTECTED.value} required to read "
                         "protected columns in the clear")
    name = str(TableName.parse(table))
    found = {p.column: p for p in protections(session, name)}
    present = [c for c in data.column_names if c in found]
    if present:
        cipher = keys.cipher(session, master)
        for column in present:
            plain = cipher.decrypt(data.column(column), found[column].family)
            typed = _as_type(engine, plain, found[column].plain_type)
            data = data.set_column(data.column_names.index(column), column, typed)
        audit.record(session, kind="field.decrypted", actor=reader.name, details={
            "table": name, "columns": present, "rows": data.num_rows})
    companions = [c for c in data.column_names
                  if c.endswith(BLIND_INDEX_SUFFIX) and c.removesuffix(BLIND_INDEX_SUFFIX) in found]
    return data.drop_columns(companions)


def read_plain(session: Session, engine: Engine, master: Keyring, reader: Reader, *,
               table: str, where: Sequence[tuple[str, object]] = (), limit: int = 1000
               ) -> pa.Table:
    """Rows of `table` matching every `column = value` in `where`, decrypted."""
    predicates, params = ["TRUE"], []
    for column, value in where:
        predicate, values = condition(session, master, table, column, value)
        predicates.append(predicate)
        params += values
    data = engine.query(f"SELECT * FROM {TableName.parse(table).sql} WHERE "
                        f"{' AND '.join(predicates)} LIMIT ?", [*params, limit])
    return plaintext(session, engine, master, reader, table=table, data=data)


def _as_type(engine: Engine, values: pa.Array, sql_type: str) -> pa.Array:
    if sql_type == "VARCHAR":
        return values
    # The Arrow type the warehouse reads this SQL type as; sql_type came from the warehouse.
    wanted = engine.query(f"SELECT CAST(NULL AS {_checked(sql_type)}) AS v").schema.field(0).type
    return values.cast(wanted)


def _checked(sql_type: str) -> str:
    if not SQL_TYPE.match(sql_type):
        raise UserError(f"cannot restore a value to warehouse type {sql_type!r}")
    return sql_type
