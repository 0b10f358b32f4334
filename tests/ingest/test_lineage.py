"""OpenLineage run events for sync runs, to a file and to an HTTP endpoint."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from datapolis.errors import ConfigError
from datapolis.ingest import jobs, service
from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.lineage import Lineage, source_namespace
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.warehouse import DuckDBEngine
from tests.conftest import make_city

KEYRING = Keyring.from_secret("k" * 40)


def job_with_lineage(registry: Registry, tmp_path: Path, sink: str) -> jobs.RunContext:
    data = tmp_path / "hj.sqlite"
    with sqlite3.connect(data) as db:
        db.execute("CREATE TABLE czrk (id INTEGER PRIMARY KEY, xm TEXT)")
        db.execute("INSERT INTO czrk VALUES (1, '张三')")
    with registry.session() as session:
        city = make_city(session)
        source = service.add_source(session, keyring=KEYRING, org=city.city_dept, code="hjxt",
                                    name="户籍", kind="sqlite", options={"path": str(data)})
        (table,) = service.choose_tables(session, source=source, keyring=KEYRING,
                                         names=["czrk"])
        jobs.create_job(session, table=table, mode="snapshot", code="hjxt.czrk")
    return jobs.RunContext(registry=registry, warehouse=DuckDBEngine(tmp_path / "w.duckdb"),
                           keyring=KEYRING, lock_dir=tmp_path / "locks", lineage=Lineage(sink))


def test_runs_are_written_as_openlineage_events(registry: Registry, tmp_path: Path) -> None:
    events_file = tmp_path / "lineage.jsonl"
    context = job_with_lineage(registry, tmp_path, f"file:{events_file}")
    jobs.run_job(context, "hjxt.czrk")
    (tmp_path / "hj.sqlite").unlink()  # the next run fails: the source file is gone
    with pytest.raises(TerminalSourceError):
        jobs.run_job(context, "hjxt.czrk")
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "FAIL"]
    first = events[0]
    assert (first["job"]["namespace"], first["job"]["name"]) == ("datapolis", "hjxt.czrk")
    assert first["inputs"][0]["namespace"] == "sqlite://hjxt"
    assert first["inputs"][0]["name"].endswith("hj.sqlite.czrk")
    assert first["outputs"][0]["name"] == "ods_371300_gaj.czrk"
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"] != events[2]["run"]["runId"]


@pytest.fixture
def collector() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "event": json.loads(body)})
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_events_reach_an_http_endpoint(
    registry: Registry, tmp_path: Path, collector: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = collector
    jobs.run_job(job_with_lineage(registry, tmp_path, url), "hjxt.czrk")
    assert [r["path"] for r in received] == ["/api/v1/lineage"] * 2
    assert [r["event"]["eventType"] for r in received] == ["START", "COMPLETE"]


def test_an_unreachable_lineage_service_does_not_stop_the_sync(
    registry: Registry, tmp_path: Path
) -> None:
    context = job_with_lineage(registry, tmp_path, "http://127.0.0.1:1")
    assert jobs.run_job(context, "hjxt.czrk").status == "succeeded"


def test_sink_and_namespace_validation() -> None:
    with pytest.raises(ConfigError, match="lineage sink"):
        Lineage("ftp://x")
    assert not Lineage("").enabled
    options = {"host": "10.1.2.3", "port": 5432, "password": "never"}
    assert source_namespace("postgres", options, "x") == "postgres://10.1.2.3:5432"
