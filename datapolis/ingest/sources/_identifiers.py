"""Identifiers in SQL we send to a source: validated against the catalog, then quoted."""

from __future__ import annotations

from collections.abc import Sequence

from datapolis.ingest.errors import TerminalSourceError


def quote(name: str, quote_char: str = '"') -> str:
    """Quote one identifier; refuses characters no catalog name should contain."""
    if not name or "\x00" in name:
        raise TerminalSourceError(f"invalid identifier {name!r}")
    return quote_char + name.replace(quote_char, quote_char * 2) + quote_char


def choose_columns(source: str, table: str, known: Sequence[str],
                   wanted: Sequence[str] | None) -> list[str]:
    """The columns to read, in the order asked; a name not in the table is a terminal error."""
    if wanted is None:
        return list(known)
    missing = [name for name in wanted if name not in known]
    if missing:
        raise TerminalSourceError(
            f"{source}: table {table} has no column(s) {', '.join(missing)}")
    return list(wanted)


def check_cursor_column(source: str, table: str, known: Sequence[str], column: str) -> None:
    if column not in known:
        raise TerminalSourceError(f"{source}: cursor column {column!r} is not in table {table}")
