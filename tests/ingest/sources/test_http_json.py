from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pytest

from datapolis.ingest.errors import TerminalSourceError, TransientSourceError
from datapolis.ingest.sources.base import CursorFilter, Source
from datapolis.ingest.sources.registry import open_source

RECORDS = [{"id": i, "xm": f"王{i}", "je": i * 1.5, "ok": i % 2 == 0, "tags": {"n": i},
            "sfzh": f"{i:018d}"} for i in range(1, 24)]
TOKEN = "tok-Secret-42"


class Api(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/page":
            page, size = int(query["page"]), int(query["size"])
            self._send(200, {"data": {"items": RECORDS[(page - 1) * size:page * size]}})
        elif parts.path == "/offset":
            offset, limit = int(query["offset"]), int(query["limit"])
            self._send(200, RECORDS[offset:offset + limit])
        elif parts.path == "/next":
            at = int(query.get("at", 0))
            more = at + 10 < len(RECORDS)
            self._send(200, {"rows": RECORDS[at:at + 10],
                             "links": {"next": f"/next?at={at + 10}" if more else None}})
        elif parts.path == "/private":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"error": "unauthorised"})
            else:
                self._send(200, RECORDS[:3])
        elif parts.path == "/busy":
            self._send(503, {"error": "busy"})
        else:
            self._send(404, {"error": "no such api"})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _rows(source: Source, **kwargs: object) -> list[dict[str, object]]:
    return pa.Table.from_batches(source.read("records", **kwargs)).to_pylist()  # type: ignore[arg-type]


@pytest.mark.parametrize("options", [
    {"path": "/page", "paging": "page", "page_size": 5, "records_path": "data.items"},
    {"path": "/offset", "paging": "offset", "page_size": 7},
    {"path": "/next", "paging": "next", "records_path": "rows", "next_path": "links.next"},
])
def test_every_paging_reads_every_record(base_url: str, options: dict[str, object]) -> None:
    path = options.pop("path")
    source = open_source("http_json", {"url": f"{base_url}{path}", "primary_key": "id",
                                       **options}, {})
    (table,) = source.tables()
    assert table.primary_key == ("id",)
    assert {c.name: c.arrow_type for c in table.columns} == {
        "id": pa.int64(), "xm": pa.string(), "je": pa.float64(), "ok": pa.bool_(),
        "tags": pa.string(), "sfzh": pa.string()}
    rows = _rows(source)
    assert [r["id"] for r in rows] == list(range(1, 24))
    assert rows[3] == {"id": 4, "xm": "王4", "je": 6.0, "ok": True, "tags": '{"n": 4}',
                       "sfzh": "000000000000000004"}
    late = _rows(source, columns=["id"], cursor=CursorFilter("id", 20, 2))
    assert late == [{"id": i} for i in range(18, 24)]


def test_token_is_sent_and_never_shown(base_url: str) -> None:
    good = open_source("http_json", {"url": f"{base_url}/private"}, {"token": TOKEN})
    assert len(_rows(good)) == 3
    bad = open_source("http_json", {"url": f"{base_url}/private"}, {"token": "wrong-" + TOKEN})
    with pytest.raises(TerminalSourceError) as caught:
        bad.test()
    assert "401" in str(caught.value) and TOKEN not in str(caught.value)
    assert TOKEN not in repr(bad)


def test_failures_are_classified(base_url: str) -> None:
    with pytest.raises(TransientSourceError, match="503"):
        open_source("http_json", {"url": f"{base_url}/busy"}, {}).test()
    with pytest.raises(TerminalSourceError, match="404"):
        open_source("http_json", {"url": f"{base_url}/gone"}, {}).test()
    with pytest.raises(TerminalSourceError, match="no list of records"):
        open_source("http_json", {"url": f"{base_url}/page?page=1&size=2",
                                  "records_path": "data.nope"}, {}).test()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientSourceError, match="http_json source"):
        open_source("http_json", {"url": f"http://127.0.0.1:{port}/x", "timeout": 2}, {}).test()
    with pytest.raises(TerminalSourceError, match="paging"):
        open_source("http_json", {"url": base_url, "paging": "cursor"}, {})
