"""`datapolis baselib ...`: build the base libraries, score them, list conflicts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from datapolis.baselib import service
from datapolis.baselib.libraries import LIBRARIES, get_library
from datapolis.baselib.score import demo_systems, scorable
from datapolis.baselib.score import score as score_library
from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.ingest.service import secrets_keyring
from datapolis.orgs.cli import cli_actor
from datapolis.standardise.cli import progress_bar, stores

app = typer.Typer(help="Base libraries (基础库): 人口库, 法人库, 电子证照库.",
                  no_args_is_help=True)
console = Console()


@app.command("build")
def build(
    library: Annotated[str | None, typer.Argument(help="person, legal_entity or license")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every base library")] = False,
) -> None:
    """Merge std tables into base libraries (atomic; provenance and conflicts recorded)."""
    if (library is None) == (not all_):
        raise UserError("name one base library or pass --all")
    todo = list(LIBRARIES.values()) if all_ else [get_library(library or "")]
    report = Table("library", "source records", "base records", "conflicts", "seconds")
    keyring = secrets_keyring(get_settings())
    with stores() as (registry, warehouse), progress_bar() as bar:
        task = bar.add_task("base", total=len(todo))
        for lib in todo:
            bar.update(task, description=lib.table)
            done = service.build(registry, warehouse, lib, trigger="cli", keyring=keyring,
                                 actor=cli_actor())
            report.add_row(done.table, f"{done.rows_in:,}", f"{done.rows_out:,}",
                           f"{done.conflicts:,}", f"{done.seconds:.2f}")
            bar.advance(task)
    console.print(report)


@app.command("score")
def score() -> None:
    """Merge precision/recall and field accuracy against the demo city's recorded truth."""
    settings = get_settings()
    orgs = demo_systems(settings.demo_dir)
    report = Table("library", "records", "true pairs", "merged pairs", "precision", "recall",
                   "field accuracy")
    with stores() as (_, warehouse):
        for lib in LIBRARIES.values():
            if not scorable(lib) or not warehouse.table_exists(lib.table):
                continue
            found = score_library(warehouse, lib, settings.demo_dir / "truth", orgs)
            report.add_row(lib.table, f"{found.records:,}", f"{found.true_pairs:,}",
                           f"{found.merged_pairs:,}", f"{found.precision:.4f}",
                           f"{found.recall:.4f}",
                           ", ".join(f"{k} {v:.3f}" for k, v in found.field_accuracy.items()))
    console.print(report)


@app.command("conflicts")
def conflicts(
    library: Annotated[str | None, typer.Option(help="person, legal_entity or license")] = None,
    field: Annotated[str | None, typer.Option(help="A base field, e.g. address")] = None,
    source: Annotated[str | None, typer.Option(help="A std table, e.g. std.swjt_yhda")] = None,
    limit: int = 50,
) -> None:
    """Values two sources disagree on, with both values and both sources."""
    report = Table("library", "key", "field", "chosen", "from", "other", "from")
    with stores() as (_, warehouse):
        for c in service.conflicts(warehouse, library=library, field=field, source=source,
                                   limit=limit):
            report.add_row(c.library, c.link_key, c.field, c.chosen_value, c.chosen_source,
                           c.other_value, c.other_source)
    console.print(report)
