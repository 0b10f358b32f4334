"""The `datapolis` command as a user runs it: a real process, real stores, one-line errors."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.commands import DATAPOLIS, environment, run

TEST_SECRET_KEY = "cli-test-secret-key-0123456789abcdefghij"


def assert_one_line_error(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    first = run(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "migrated" in first.stdout
    again = run(tmp_path, "db", "upgrade")
    assert "already at" in again.stdout
    assert "up to date" in run(tmp_path, "db", "current").stdout


def test_unknown_setting(tmp_path: Path) -> None:
    done = run(tmp_path, "db", "upgrade", DATAPOLIS_DATABSE_URL="x")
    assert_one_line_error(done, "unknown setting DATAPOLIS_DATABSE_URL")
    assert not tmp_path.joinpath("registry.sqlite").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "not a valid SQLAlchemy URL"),
        ("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere", "cannot connect"),
        ("oracle+nodriver://x@y/z", "cannot use registry database"),
    ],
)
def test_wrong_database_url(tmp_path: Path, url: str, expected: str) -> None:
    done = run(tmp_path, "db", "upgrade", DATAPOLIS_DATABASE_URL=url)
    assert_one_line_error(done, expected)


def test_password_in_url_is_not_printed(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://postgres:hunter2secret@127.0.0.1:1/nowhere"
    done = run(tmp_path, "db", "upgrade", DATAPOLIS_DATABASE_URL=url)
    assert "hunter2secret" not in done.stderr + done.stdout
    shown = run(tmp_path, "settings", DATAPOLIS_DATABASE_URL=url)
    assert shown.returncode == 0 and "hunter2secret" not in shown.stdout


def test_serve_refuses_default_secret_outside_dev(tmp_path: Path) -> None:
    done = run(tmp_path, "serve", DATAPOLIS_ENV="prod")
    assert_one_line_error(done, "built-in development key")


def test_serve_refuses_unmigrated_registry(tmp_path: Path) -> None:
    done = run(tmp_path, "serve", "--port", "1")
    assert done.returncode != 0
    done = run(tmp_path, "serve", "--port", str(_free_port()))
    assert_one_line_error(done, "datapolis db upgrade")
    assert not tmp_path.joinpath("registry.sqlite").exists()


def test_serve_refuses_used_port(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(tmp_path, "serve", "--port", str(port), DATAPOLIS_SECRET_KEY=TEST_SECRET_KEY)
    assert_one_line_error(done, f"port {port} on 127.0.0.1 is already in use")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_make_run_sequence_serves_the_demo_city(tmp_path: Path) -> None:
    """`make run`: migrate, build the demo (seeding the registry), serve and print logins."""
    assert run(tmp_path, "db", "upgrade").returncode == 0
    built = run(tmp_path, "demo", "build", "--people", "300")
    assert built.returncode == 0, built.stderr
    assert "Registered" in built.stdout
    again = run(tmp_path, "demo", "build", "--if-absent")
    assert again.returncode == 0 and "nothing to build" in again.stdout
    port = _free_port()
    server = subprocess.Popen(
        [DATAPOLIS, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment(tmp_path),
    )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/healthz")
        assert health == {"status": "ok", "version": health["version"], "registry": "reachable"}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Admin@Linyi2026" in output and "platform_admin" in output
    assert "Traceback" not in output


def _wait_for(url: str, seconds: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - local test URL
                body: dict[str, str] = json.loads(answer.read())
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
