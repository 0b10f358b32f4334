"""Outsiders check an exported log file against signed checkpoints, with no database: every way
of tampering with the file is named by event and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from datapolis.security.audit import files, service
from datapolis.security.audit.cli import app
from datapolis.security.audit.signing import Signer, public_key_text
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401

SIGNER = Signer.from_secret("audit-files-secret-key-0123456789abcdef")
OTHER = Signer.from_secret("someone-else-entirely-0123456789abcdef")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], str]]:
    """20 events (checkpoints signed at 8 and 16) as export lines, and the hash name."""
    url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'registry.sqlite'}"
    registry = open_registry(url)
    migrate.upgrade(registry)
    with registry.session() as session:
        for i in range(20):
            service.record(session, kind="auth.login", actor=f"user-{i}", org="371300_gaj",
                           details={"method": "password", "n": i})
            if i + 1 in (8, 16):
                service.checkpoint(session, SIGNER)
    with registry.session() as session:
        lines = list(files.export_lines(session))
        signed = service.checkpoints(session, service.get_log(session))
    registry.close()
    yield lines, json.dumps({"format": files.CHECKPOINTS_FORMAT, "hash": "sm3",
                             "checkpoints": [c.as_json() for c in signed]})


def check(lines: list[str], checkpoints: str, signer: Signer = SIGNER) -> files.FileReport:
    hash_name, signed = files.load_checkpoints(checkpoints)
    return files.verify_file("".join(lines).encode(), hash_name=hash_name, checkpoints=signed,
                             public_key=signer.public_key)


def test_an_untouched_export_verifies(exported: tuple[list[str], str]) -> None:
    lines, checkpoints = exported
    report = check(lines, checkpoints)
    assert report.ok, report.problems
    assert (report.events, report.first, report.last, report.checked) == (20, 0, 19, 2)
    assert report.notes == ["events 16..19 are not yet covered by a signed checkpoint: only "
                            "their chain was checked"]


def test_an_altered_line_is_named(exported: tuple[list[str], str]) -> None:
    lines, checkpoints = exported
    lines = [*lines]
    lines[5] = lines[5].replace("user-5", "mallory")
    assert check(lines, checkpoints).problems == [
        "altered event 5 (line 6): event 6 (line 7) does not point at it",
        "checkpoint at size 8 does not match the file: events 0..7 differ from what was signed",
        "checkpoint at size 16 does not match the file: events 0..15 are not all what was "
        "signed",
    ]
    lines = [*exported[0]]
    lines[3] = lines[3].replace('"n":3', '"n": 3')
    assert check(lines, checkpoints).problems[0] == (
        "altered event 3 (line 4): not in canonical form, so not the bytes that were hashed")


def test_a_deleted_line_is_named(exported: tuple[list[str], str]) -> None:
    lines, checkpoints = exported
    problems = check(lines[:4] + lines[5:], checkpoints).problems
    assert problems[0] == "deleted event 4: line 4 holds event 3 and line 5 event 5"
    assert "checkpoint at size 8 does not match the file: events 0..7 differ from what was " \
        "signed" in problems


def test_an_inserted_line_is_named(exported: tuple[list[str], str]) -> None:
    lines, checkpoints = exported
    forged = lines[6].replace("user-6", "mallory")
    assert check([*lines[:6], forged, *lines[6:]], checkpoints).problems == [
        "inserted line 7: a second event 6 that the next event does not point at"
    ]
    assert check([*lines[:7], forged, *lines[7:]], checkpoints).problems == [
        "inserted line 8: a second event 6 that the next event does not point at"
    ]


def test_reordered_lines_are_named(exported: tuple[list[str], str]) -> None:
    lines, checkpoints = exported
    lines = [*lines]
    lines[2], lines[9] = lines[9], lines[2]
    assert check(lines, checkpoints).problems == [
        "reordered events 9 and 2: lines 3 and 10 are swapped"
    ]


def test_a_truncated_file_is_named(exported: tuple[list[str], str]) -> None:
    lines, checkpoints = exported
    cut = "".join(lines[:12]) + lines[12][:40]
    hash_name, signed = files.load_checkpoints(checkpoints)
    report = files.verify_file(cut.encode(), hash_name=hash_name, checkpoints=signed,
                               public_key=SIGNER.public_key)
    assert report.problems == [
        "truncated file: the last line (13) is cut off mid-JSON",
        "truncated file: it ends at event 11 but checkpoint covers 16 events (up to 15)",
    ]
    assert check(lines[:7], checkpoints).problems == [
        "truncated file: it ends at event 6 but checkpoint covers 8 events (up to 7)"
    ]


def test_wrong_key_and_forged_checkpoints_are_named(exported: tuple[list[str], str]) -> None:
    lines, checkpoints = exported
    assert check(lines, checkpoints, OTHER).problems == [
        f"bad checkpoint signature at size 8 (key id {SIGNER.key_id})",
        f"bad checkpoint signature at size 16 (key id {SIGNER.key_id})",
    ]
    data = json.loads(checkpoints)
    data["checkpoints"][0]["root"] = "00" * 32
    assert check(lines, json.dumps(data)).problems == [
        f"bad checkpoint signature at size 8 (key id {SIGNER.key_id})",
        "checkpoint at size 8 does not match the file: events 0..7 differ from what was signed",
    ]
    with pytest.raises(Exception, match="not a datapolis-audit-checkpoints/1 document"):
        files.load_checkpoints('{"format": "x"}')


def test_export_log_and_verify_file_on_the_command_line(
    city_registry: Registry, tmp_path: Path  # noqa: F811
) -> None:
    runner = CliRunner()
    with city_registry.session() as session:
        for i in range(5):
            service.record(session, kind="export.list", actor="org_user", org="371300_gaj",
                           details={"list": "share", "format": "xlsx", "rows": i})
    assert runner.invoke(app, ["checkpoint"]).exit_code == 0
    checkpoints, log = tmp_path / "cp.json", tmp_path / "log.jsonl"
    assert runner.invoke(app, ["export-checkpoints", "-o", str(checkpoints)]).exit_code == 0
    made = runner.invoke(app, ["export-log", str(log)])
    assert made.exit_code == 0, made.output
    size = len(log.read_text(encoding="utf-8").splitlines())
    assert f"{size} events written to {log}" in made.stdout
    key = public_key_text(Signer.from_secret(get_settings().secret_key).public_key)
    ok = runner.invoke(app, ["verify-file", str(log), "--checkpoints", str(checkpoints),
                             "--public-key", key])
    assert ok.exit_code == 0, ok.output
    assert f"{size} events (0..{size - 1}), 1 signed roots recomputed — intact" in ok.stdout

    part = tmp_path / "part.jsonl"
    assert runner.invoke(app, ["export-log", str(part), "--from", "2", "--to", "4"]
                         ).exit_code == 0
    assert [json.loads(x)["seq"] for x in part.read_text(encoding="utf-8").splitlines()] == [
        2, 3, 4]
    with city_registry.session() as session:
        exports = service.search_events(session, kind="export.audit_log")
        assert [e.actor.startswith("cli:") for e in exports] == [True, True]
        assert json.loads(exports[0].canonical)["details"] == {"from": 2, "to": 4, "events": 3}

    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(lines[:2] + lines[3:]), encoding="utf-8")
    broken = runner.invoke(app, ["verify-file", str(log), "--checkpoints", str(checkpoints),
                                 "--public-key", key])
    assert broken.exit_code == 1
    assert "error: deleted event 2: line 2 holds event 1 and line 3 event 3" in broken.stderr
    assert "Traceback" not in broken.output
    assert_one_line_error(
        runner.invoke(app, ["verify-file", str(log), "--checkpoints", str(log)]),
        "not JSON")
