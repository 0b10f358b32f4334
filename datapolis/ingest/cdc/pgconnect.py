"""Connections to a PostgreSQL source for change capture, and how their failures are classified.

Connection parameters are libpq keywords (host, port, dbname, user, password, sslmode...). The
password never appears in a message: errors name the source by `describe(params)` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from datapolis.ingest.cdc.pgtypes import SESSION_OPTIONS
from datapolis.ingest.errors import SourceError, TerminalSourceError, TransientSourceError

ConnectionParams = Mapping[str, Any]

# SQLSTATEs worth a retry: connection exceptions, too many connections, the server shutting
# down or starting, serialization failures, a query cancelled by timeout, the slot in use by a
# reader that has not gone away yet.
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40", "55006", "57014", "58")
# Connection-time errors carry no SQLSTATE in psycopg2; these FATAL messages are still transient.
_TRANSIENT_FATAL_MARKERS = (
    "starting up",
    "shutting down",
    "too many",
    "recovery mode",
    "remaining connection slots",
)
_HINTS = {
    "55000": "is wal_level = logical in postgresql.conf (a restart is needed after changing it)?",
    "42501": "the user needs REPLICATION, CREATE on the database and to own the tables",
    "42704": "create the slot and publication again (a new initial snapshot follows)",
}


def describe(params: ConnectionParams) -> str:
    """The source as a reader may see it: user@host:port/dbname, never the password."""
    user = params.get("user") or "?"
    host = params.get("host") or "localhost"
    port = params.get("port") or 5432
    return f"{user}@{host}:{port}/{params.get('dbname') or '?'}"


def classify(exc: psycopg2.Error, params: ConnectionParams, doing: str) -> SourceError:
    """A psycopg2 error as a terminal or transient source error with a one-line message."""
    detail = exc.diag.message_primary or (str(exc).strip().splitlines() or [repr(exc)])[0]
    detail = detail.replace("FATAL:  ", "").replace("ERROR:  ", "")
    message = f"PostgreSQL {describe(params)}: {doing}: {detail}"
    code = exc.pgcode
    if code is None:
        text = str(exc)
        terminal = "FATAL:" in text and not any(m in text for m in _TRANSIENT_FATAL_MARKERS)
        if "no pg_hba.conf entry for replication" in text:
            message += " (the server must allow replication connections for this user)"
        return TerminalSourceError(message) if terminal else TransientSourceError(message)
    if code.startswith(_TRANSIENT_SQLSTATE_PREFIXES):
        return TransientSourceError(message)
    hint = _HINTS.get(code)
    return TerminalSourceError(f"{message} ({hint})" if hint else message)


def connect(
    params: ConnectionParams, *, replication: bool = False
) -> psycopg2.extensions.connection:
    """A session with the fixed text formats `pgtypes` parses; optionally a replication one."""
    kwargs = dict(params)
    kwargs["options"] = f"{kwargs.get('options', '')} {SESSION_OPTIONS}".strip()
    kwargs.setdefault("connect_timeout", 10)
    kwargs.setdefault("application_name", "datapolis-cdc")
    factory = psycopg2.extras.LogicalReplicationConnection if replication else None
    try:
        return psycopg2.connect(connection_factory=factory, **kwargs)
    except psycopg2.Error as exc:
        raise classify(exc, params, "connect") from None
