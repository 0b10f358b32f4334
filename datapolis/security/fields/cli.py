"""`datapolis security`: protect warehouse columns with SM4 and manage the field keyring.

These verbs open the registry and the warehouse file themselves: run them while
`datapolis serve` is stopped (it owns the warehouse while it runs), or use the admin page.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.ingest.service import secrets_keyring
from datapolis.registry.db import Registry, open_registry
from datapolis.security.crypto import Keyring
from datapolis.security.fields import keys, rows, service
from datapolis.warehouse import DuckDBEngine

app = typer.Typer(help="Field encryption (国产密码): protected columns and the field keyring.",
                  no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

BatchOption = Annotated[int, typer.Option(min=100, help="Rows rewritten per transaction.")]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "cli:unknown"


@dataclass
class _Stores:
    registry: Registry
    warehouse: DuckDBEngine
    master: Keyring


@contextmanager
def _stores() -> Iterator[_Stores]:
    """Registry, warehouse and master keyring; a user error is one red line, exit 1."""
    try:
        settings = get_settings()
        registry = open_registry(settings.registry_url, create=False)
        try:
            warehouse = DuckDBEngine(settings.warehouse_file)
            try:
                yield _Stores(registry, warehouse, secrets_keyring(settings))
            finally:
                warehouse.close()
        finally:
            registry.close()
    except UserError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


@contextmanager
def _bar(label: str) -> Iterator[rows.Progress]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command()
def protect(
    table: Annotated[str, typer.Argument(help="Warehouse table, schema.table")],
    column: Annotated[str, typer.Argument(help="The sensitive column")],
    family: Annotated[str | None, typer.Option(
        help="Column family: columns of one family share the blind-index key and so join "
        "(default: the column name)")] = None,
    batch_rows: BatchOption = rows.DEFAULT_BATCH_ROWS,
) -> None:
    """Encrypt a column (SM4) with a blind index (HMAC-SM3); new landings are sealed too.
    Interrupted? Run it again: it continues where it stopped."""
    with _stores() as s, _bar(f"encrypting {table}.{column}") as progress:
        done = service.protect(s.registry, s.warehouse, s.master, table=table, column=column,
                               family=family, actor=_actor(), batch_rows=batch_rows,
                               progress=progress)
    console.print(f"[green]protected[/] {done.table}.{done.column} (family {done.family}): "
                  f"{done.rows_encrypted:,} values encrypted")


@app.command()
def unprotect(
    table: Annotated[str, typer.Argument(help="Warehouse table, schema.table")],
    column: Annotated[str, typer.Argument(help="The protected column")],
    batch_rows: BatchOption = rows.DEFAULT_BATCH_ROWS,
) -> None:
    """Decrypt a column back to its original type and end its protection."""
    with _stores() as s, _bar(f"decrypting {table}.{column}") as progress:
        done = service.unprotect(s.registry, s.warehouse, s.master, table=table, column=column,
                                 actor=_actor(), batch_rows=batch_rows, progress=progress)
    console.print(f"unprotected {table}.{column}: {done:,} values decrypted")


@app.command()
def protected(
    table: Annotated[str | None, typer.Argument(help="Only this table")] = None,
) -> None:
    """List the protected columns."""
    with _stores() as s, s.registry.session() as session:
        found = service.protections(session, table)
    listing = Table("table", "column", "family", "state", "values", "since", "by",
                    title="Protected columns")
    for p in found:
        listing.add_row(p.table, p.column, p.family, p.state, f"{p.rows_encrypted:,}",
                        p.since.strftime("%Y-%m-%d %H:%M"), p.by)
    console.print(listing if found else "no protected columns")


@app.command("keys")
def list_keys() -> None:
    """The field keyring: each key's state and how many values it still encrypts."""
    with _stores() as s, s.registry.session() as session:
        usage = service.key_usage(session, s.warehouse)
        listing = Table("key", "state", "created", "by", "values", title="Field keys")
        for key in keys.keys(session):
            listing.add_row(key.key_id, key.state, key.created_at.strftime("%Y-%m-%d %H:%M"),
                            key.created_by, f"{sum(usage.get(key.key_id, {}).values()):,}")
    console.print(listing)


def _in_session(action: Callable[[_Stores], str]) -> None:
    with _stores() as s:
        message = action(s)
    console.print(message)


@app.command("rotate-key")
def rotate_key() -> None:
    """Make a new current field key; older ciphertexts stay readable."""
    def rotate(s: _Stores) -> str:
        with s.registry.session() as session:
            made = service.rotate_key(session, s.master, actor=_actor())
            return f"new writes now use field key [bold]{made.key_id}[/]"
    _in_session(rotate)


@app.command()
def rekey(
    table: Annotated[str, typer.Argument(help="Warehouse table, schema.table")],
    batch_rows: BatchOption = rows.DEFAULT_BATCH_ROWS,
) -> None:
    """Re-encrypt a table's values made with older keys under the current key."""
    with _stores() as s, _bar(f"re-encrypting {table}") as progress:
        done = service.rekey(s.registry, s.warehouse, s.master, table=table, actor=_actor(),
                             batch_rows=batch_rows, progress=progress)
    console.print(f"rekeyed {table}: {done:,} values re-encrypted")


@app.command("retire-key")
def retire_key(key_id: Annotated[str, typer.Argument(help="e.g. f1")]) -> None:
    """Destroy a rotated-away key; refused while any value still uses it."""
    def retire(s: _Stores) -> str:
        with s.registry.session() as session:
            service.retire_key(session, s.warehouse, key_id, actor=_actor())
        return f"field key {key_id} retired"
    _in_session(retire)
