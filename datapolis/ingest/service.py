"""Service functions for sources: register with encrypted credentials, test, browse, choose."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.config import Settings
from datapolis.errors import Conflict, NotFound, UserError
from datapolis.ingest.models import Source, SourceTableChoice
from datapolis.ingest.sources import base
from datapolis.ingest.sources.registry import get_kind, open_source
from datapolis.orgs.models import Organisation, OrgKind, User
from datapolis.security.audit import service as audit
from datapolis.security.crypto import Keyring
from datapolis.warehouse.engine import check_identifier
from datapolis.warehouse.layers import ods_schema

SOURCE_CODE = re.compile(r"^[a-z0-9][a-z0-9_]{1,62}$")
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")
_FILE_SUFFIX = re.compile(r"\.(csv|txt|xlsx|xls|json)$", re.IGNORECASE)


def secrets_keyring(settings: Settings) -> Keyring:
    """The keyring for secrets at rest; its key is derived from DATAPOLIS_SECRET_KEY."""
    return Keyring.from_secret(settings.secret_key)


def _context(code: str) -> str:
    return f"source:{code}"


def add_source(
    session: Session,
    *,
    keyring: Keyring,
    org: Organisation,
    code: str,
    name: str,
    kind: str,
    options: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    created_by: User | None = None,
) -> Source:
    source_kind = get_kind(kind)
    if not SOURCE_CODE.match(code):
        raise UserError(f"source code {code!r} must be 2-63 lower-case letters, digits or _")
    if org.kind is not OrgKind.DEPARTMENT:
        raise UserError(f"{org.name} is not a department; sources belong to departments")
    _check_fields("option", options, source_kind.option_fields)
    _check_fields("secret", secrets or {}, source_kind.secret_fields)
    if session.scalar(select(Source.id).where(Source.code == code)) is not None:
        raise Conflict(f"source code {code!r} is already taken")
    source = Source(
        code=code,
        name=name.strip() or code,
        kind=source_kind.name,
        org=org,
        options=dict(options),
        secrets_encrypted=(
            keyring.encrypt(json.dumps(dict(secrets)), context=_context(code)) if secrets else None
        ),
        created_by_id=created_by.id if created_by else None,
    )
    session.add(source)
    session.flush()
    audit.record(session, kind="source.registered", org=org.code, details={
        "source": code, "kind": source_kind.name, "options": sorted(options),
        "secret_fields": sorted(secrets or {})})
    return source


def _check_fields(what: str, given: Mapping[str, Any], known: Sequence[str]) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise UserError(f"unknown {what} {', '.join(unknown)} (allowed: {allowed})")


def get_source(session: Session, code: str) -> Source:
    source = session.scalar(select(Source).where(Source.code == code))
    if source is None:
        raise NotFound(f"no source with code {code!r}")
    return source


def list_sources(session: Session, org_ids: set[int] | None = None) -> list[Source]:
    query = select(Source).order_by(Source.code)
    if org_ids is not None:
        query = query.where(Source.org_id.in_(org_ids))
    return list(session.scalars(query))


def decrypted_secrets(source: Source, keyring: Keyring) -> dict[str, str]:
    if not source.secrets_encrypted:
        return {}
    plain = keyring.decrypt(source.secrets_encrypted, context=_context(source.code))
    loaded: dict[str, str] = json.loads(plain)
    return loaded


@contextmanager
def connect(source: Source, keyring: Keyring) -> Iterator[base.Source]:
    """The source's plugin, connected with its decrypted secrets; closed afterwards."""
    plugin = open_source(source.kind, source.options, decrypted_secrets(source, keyring))
    try:
        yield plugin
    finally:
        plugin.close()


def test_source(source: Source, keyring: Keyring) -> str:
    with connect(source, keyring) as plugin:
        return plugin.test()


def browse_tables(source: Source, keyring: Keyring) -> list[base.SourceTable]:
    with connect(source, keyring) as plugin:
        return plugin.tables()


def target_table_name(source_table: str) -> str:
    """The ods table name for a source table: `public.czrk` → `czrk`, `低保 2024.csv` → `t_2024`."""
    file_name = _FILE_SUFFIX.sub("", source_table.rsplit("/", 1)[-1])  # dibao_202405.csv
    last = file_name.rsplit(".", 1)[-1]  # public.czrk -> czrk
    name = _NOT_IDENTIFIER.sub("_", last.lower()).strip("_") or "table"
    if not name[0].isalpha():
        name = "t_" + name
    return check_identifier(name[:63], "table")


def choose_tables(
    session: Session, *, source: Source, keyring: Keyring, names: Sequence[str]
) -> list[SourceTableChoice]:
    """Choose source tables for the highway; each gets its ods_<org> target table."""
    available = {table.name: table for table in browse_tables(source, keyring)}
    missing = [name for name in names if name not in available]
    if missing:
        raise NotFound(f"source {source.code} has no table {', '.join(missing)}")
    chosen = {choice.name: choice for choice in source.tables}
    schema = ods_schema(source.org.code)
    taken = set(session.scalars(select(SourceTableChoice.target_table)))
    added: list[str] = []
    for name in names:
        if name in chosen:
            continue
        target = f"{schema}.{target_table_name(name)}"
        if target in taken:
            raise Conflict(f"{name} would land in {target}, which another table already uses")
        table = available[name]
        choice = SourceTableChoice(
            name=name, target_table=target, comment=table.comment,
            primary_key=list(table.primary_key),
        )
        source.tables.append(choice)
        taken.add(target)
        chosen[name] = choice
        added.append(name)
    session.flush()
    if added:
        audit.record(session, kind="source.tables_chosen", org=source.org.code,
                     details={"source": source.code, "tables": added})
    return [chosen[name] for name in names]


def table_landing_in(session: Session, target_table: str) -> SourceTableChoice | None:
    """The source table a highway job lands in `target_table` (ods_<org>.<table>), if any."""
    return session.scalar(
        select(SourceTableChoice).where(SourceTableChoice.target_table == target_table)
    )


def source_columns(
    choice: SourceTableChoice, keyring: Keyring
) -> list[base.SourceColumn]:
    """The source's columns of a chosen table, with their declared types and comments."""
    with connect(choice.source, keyring) as plugin:
        return plugin.columns(choice.name)
