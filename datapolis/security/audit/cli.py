"""`datapolis audit`: verify the log, sign checkpoints, export them, make and check receipts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.orgs.cli import err_console, registry_session
from datapolis.security.audit import files, proofs, service
from datapolis.security.audit.signing import (
    Signer,
    key_id,
    load_public_key,
    public_key_text,
)
from datapolis.security.audit.verify import verify_log

app = typer.Typer(
    help="The tamper-evident audit log: verify it, sign checkpoints, receipts for outsiders.",
    no_args_is_help=True,
)
console = Console()

LogOption = Annotated[str, typer.Option("--log", help="Which audit log.")]
KeyOption = Annotated[
    str | None,
    typer.Option("--public-key", help="Ed25519 public key (base64 or PEM, or a file holding "
                 "it) to check signatures with. Default: this platform's own key."),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the JSON here instead of stdout.")
]


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _signer() -> Signer:
    return Signer.from_secret(get_settings().secret_key)


def _public_key(given: str | None) -> Ed25519PublicKey:
    if given is None:
        return _signer().public_key
    path = Path(given)
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else given
        return load_public_key(text)
    except UserError as exc:
        raise _fail(str(exc)) from None


def _write(data: dict[str, Any], output: Path | None) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}")


def _read(path: Path, expected_format: str) -> dict[str, Any]:
    try:
        return proofs.load(path.read_text(encoding="utf-8"), expected_format)
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _fail(f"{path} is not UTF-8 text") from None
    except UserError as exc:
        raise _fail(f"{path}: {exc}") from None


def _print_problems(problems: Iterable[str]) -> NoReturn:
    for problem in problems:
        err_console.print(f"[red]error:[/] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _fail_on_problems(file: Path, verify: Callable[[], list[str]]) -> None:
    """Run a verification of `file`; print each problem it finds and exit 1 if any."""
    try:
        problems = verify()
    except UserError as exc:
        raise _fail(f"{file}: {exc}") from None
    if problems:
        _print_problems(problems)


@app.command("verify")
def verify(log: LogOption = service.DEFAULT_LOG, public_key: KeyOption = None) -> None:
    """Recompute every leaf and root from the stored events; check every checkpoint."""
    key = _public_key(public_key)
    with registry_session() as session:
        report = verify_log(session, key, log=log)
    if report.ok:
        console.print(f"audit log {report.log} ({report.hash}): {report.events} events, "
                      f"{report.checkpoints} signed checkpoints — [green]intact[/]")
        return
    for problem in report.problems:
        err_console.print(f"[red]error:[/] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(log: LogOption = service.DEFAULT_LOG) -> None:
    """Sign the current tree head now (cron this, or let the server sign every N events)."""
    with registry_session() as session:
        signed = service.checkpoint(session, _signer(), log=log)
    console.print(f"checkpoint of {signed.log}: size {signed.size}, root {signed.root}")


@app.command("public-key")
def public_key() -> None:
    """Print the checkpoint public key (base64, raw Ed25519) that witnesses verify with."""
    key = _signer().public_key
    console.print(f"{public_key_text(key)}  (key id {key_id(key)})")


@app.command("export-checkpoints")
def export_checkpoints(log: LogOption = service.DEFAULT_LOG,
                       output: OutputOption = None) -> None:
    """All signed checkpoints and the public key, as JSON for outside witnesses."""
    key = _signer().public_key
    with registry_session() as session:
        target = service.get_log(session, log)
        signed = [c.as_json() for c in service.checkpoints(session, target)]
        data = {"format": files.CHECKPOINTS_FORMAT, "log": target.name,
                "hash": target.hash, "public_key": public_key_text(key), "key_id": key_id(key),
                "checkpoints": signed}
        service.record(session, kind="export.audit_checkpoints",
                       details={"checkpoints": len(signed)})
    _write(data, output)


@app.command("receipt")
def receipt(seq: int, log: LogOption = service.DEFAULT_LOG, output: OutputOption = None) -> None:
    """The receipt of event SEQ: the event, its audit path and the signed checkpoint."""
    with registry_session() as session:
        data = proofs.receipt(session, seq, log=log)
    _write(data, output)


@app.command("verify-receipt")
def verify_receipt(file: Path, public_key: KeyOption = None) -> None:
    """Check a receipt with the public key only (no registry needed)."""
    key = _public_key(public_key)
    data = _read(file, proofs.RECEIPT_FORMAT)
    _fail_on_problems(file, lambda: proofs.verify_receipt(data, key))
    console.print(f"receipt verified: event {data['leaf_index']} is in the signed tree of "
                  f"size {data['tree_size']}")


@app.command("consistency")
def consistency(first: int, second: int, log: LogOption = service.DEFAULT_LOG,
                output: OutputOption = None) -> None:
    """A proof that the checkpoint of size SECOND extends the one of size FIRST."""
    with registry_session() as session:
        data = proofs.consistency(session, first, second, log=log)
    _write(data, output)


@app.command("verify-consistency")
def verify_consistency(file: Path, public_key: KeyOption = None) -> None:
    """Check a consistency proof with the public key only."""
    key = _public_key(public_key)
    data = _read(file, proofs.CONSISTENCY_FORMAT)
    _fail_on_problems(file, lambda: proofs.verify_consistency_proof(data, key))
    console.print("consistency verified: the later checkpoint extends the earlier one")


@app.command("export-log")
def export_log(
    file: Path,
    first: Annotated[int | None, typer.Option("--from", help="First event number.")] = None,
    last: Annotated[int | None, typer.Option("--to", help="Last event number (included).")]
    = None,
    log: LogOption = service.DEFAULT_LOG,
) -> None:
    """Write the events as JSON Lines (each line the canonical JSON that was hashed)."""
    if first is not None and last is not None and first > last:
        raise _fail("--from must not be after --to")
    written = 0
    with registry_session() as session:
        try:
            with file.open("w", encoding="utf-8", newline="\n") as out:
                for line in files.export_lines(session, log=log, first=first, last=last):
                    out.write(line)
                    written += 1
        except OSError as exc:
            raise _fail(f"cannot write {file}: {exc.strerror}") from None
        service.record(session, kind="export.audit_log", details={
            "from": first, "to": last, "events": written})
    console.print(f"{written} events written to {file}")


@app.command("verify-file")
def verify_file(
    file: Path,
    checkpoints: Annotated[Path, typer.Option(
        "--checkpoints", help="The JSON that `export-checkpoints` wrote.")],
    public_key: KeyOption = None,
) -> None:
    """Check an `export-log` file against signed checkpoints, without the registry."""
    key = _public_key(public_key)
    try:
        hash_name, signed = files.load_checkpoints(checkpoints.read_text(encoding="utf-8"))
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {exc.filename}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _fail(f"{checkpoints} is not UTF-8 text") from None
    except UserError as exc:
        raise _fail(f"{checkpoints}: {exc}") from None
    report = files.verify_file(data, hash_name=hash_name, checkpoints=signed, public_key=key)
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    if not report.ok:
        _print_problems(report.problems)
    console.print(f"{file}: {report.events} events ({report.first}..{report.last}), "
                  f"{report.checked} signed roots recomputed — [green]intact[/]")
