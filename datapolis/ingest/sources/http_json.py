"""JSON HTTP APIs with paging: page/size, offset/limit, a next link, or one response.

Records are found at `records_path` (dotted, e.g. `data.items`; empty for a top-level list).
Columns are the keys of the first page's records: JSON integers land as int64, numbers with
a fraction as float64, booleans as bool, strings as text, and nested objects as their JSON text.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pyarrow as pa

from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources._arrow import rows_to_batch
from datapolis.ingest.sources._cursor import filter_batch, lower_bound
from datapolis.ingest.sources._errors import classify
from datapolis.ingest.sources._identifiers import check_cursor_column, choose_columns
from datapolis.ingest.sources.base import CursorFilter, SourceColumn, SourceKind, SourceTable
from datapolis.ingest.sources.registry import register_kind

PAGINGS = ("none", "page", "offset", "next")


def _dig(document: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        document = document.get(part) if isinstance(document, dict) else None
    return document


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -(2**63) <= value < 2**63 else "string"
    if isinstance(value, float):
        return "float"
    return "string"


def _arrow(kinds: set[str]) -> pa.DataType:
    if kinds == {"bool"}:
        return pa.bool_()
    if kinds == {"int"}:
        return pa.int64()
    if kinds and kinds <= {"int", "float"}:
        return pa.float64()
    return pa.string()


def _value(value: Any, type_: pa.DataType) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if pa.types.is_string(type_) and value is not None and not isinstance(value, str):
        return json.dumps(value)
    return value


class HttpJsonSource:
    kind: ClassVar[str] = "http_json"

    def __init__(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self._options = dict(options)
        self._secrets = dict(secrets)
        if not options.get("url"):
            raise TerminalSourceError("http_json source: option url is required")
        self.url = str(options["url"])
        self.paging = str(options.get("paging", "none"))
        if self.paging not in PAGINGS:
            raise TerminalSourceError(f"http_json source: paging {self.paging!r} is not one of "
                                      f"{', '.join(PAGINGS)}")
        self.table = str(options.get("table", "records"))
        self.page_size = int(options.get("page_size", 100))
        self.label = f"http_json source {urllib.parse.urlsplit(self.url).netloc}"

    def __repr__(self) -> str:
        return f"<HttpJsonSource {self.label}>"

    def _get(self, url: str) -> Any:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        if token := self._secrets.get("token"):
            request.add_header("Authorization", f"Bearer {token}")
        try:
            timeout = float(self._options.get("timeout", 30))
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            exc.close()
            transient = exc.code == 429 or exc.code >= 500
            raise classify(self.label, exc, self._secrets, transient=transient) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            transient = isinstance(reason, ConnectionError | TimeoutError | socket.timeout)
            raise classify(self.label, exc, self._secrets, transient=transient) from None
        except (TimeoutError, ConnectionError) as exc:
            raise classify(self.label, exc, self._secrets, transient=True) from None
        except json.JSONDecodeError as exc:
            raise TerminalSourceError(f"{self.label}: the response is not JSON ({exc})") from None

    def _with_query(self, url: str, extra: Mapping[str, Any]) -> str:
        parts = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query.update({k: str(v) for k, v in extra.items()})
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def _pages(self, extra: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        o = self._options
        path = str(o.get("records_path", ""))
        number, offset = int(o.get("first_page", 1)), 0
        url: str | None = self._with_query(self.url, extra)
        while url:
            if self.paging == "page":
                url = self._with_query(url, {o.get("page_param", "page"): number,
                                             o.get("size_param", "size"): self.page_size})
            elif self.paging == "offset":
                url = self._with_query(url, {o.get("offset_param", "offset"): offset,
                                             o.get("limit_param", "limit"): self.page_size})
            document = self._get(url)
            records = _dig(document, path) if path else document
            if not isinstance(records, list):
                raise TerminalSourceError(f"{self.label}: no list of records at "
                                          f"{path or 'the top level'} of the response")
            yield [r if isinstance(r, dict) else {"value": r} for r in records]
            if self.paging == "none":
                return
            if self.paging == "next":
                link = _dig(document, str(o.get("next_path", "next")))
                url = urllib.parse.urljoin(url, link) if isinstance(link, str) and link else None
                continue
            if len(records) < self.page_size:
                return
            number, offset = number + 1, offset + len(records)

    def test(self) -> str:
        first = next(self._pages({}), [])
        return f"{self.label}: {len(first)} records on the first page"

    def tables(self) -> list[SourceTable]:
        columns = tuple(self.columns(self.table))
        keys = tuple(k for k in str(self._options.get("primary_key", "")).split(",") if k)
        return [SourceTable(name=self.table, comment=self._options.get("comment"),
                            primary_key=keys, columns=columns)]

    def columns(self, table: str) -> list[SourceColumn]:
        if table != self.table:
            raise TerminalSourceError(f"{self.label}: table {table} does not exist")
        kinds: dict[str, set[str]] = {}
        for record in next(self._pages({}), []):
            for key, value in record.items():
                seen = kinds.setdefault(str(key), set())
                if value is not None:
                    seen.add(_kind(value))
        keys = set(str(self._options.get("primary_key", "")).split(","))
        return [SourceColumn(name=name, source_type="json " + ("/".join(sorted(seen)) or "null"),
                             arrow_type=_arrow(seen), primary_key=name in keys)
                for name, seen in kinds.items()]

    def read(self, table: str, *, columns: Sequence[str] | None = None,
             cursor: CursorFilter | None = None,
             batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        known = self.columns(table)
        names = [c.name for c in known]
        chosen = choose_columns(self.label, table, names, columns)
        extra: dict[str, Any] = {}
        bound = None
        if cursor is not None:
            check_cursor_column(self.label, table, names, cursor.column)
            bound = lower_bound(cursor)
            if bound is not None and self._options.get("cursor_param"):
                extra[str(self._options["cursor_param"])] = bound  # the API filters too
        wanted = list(dict.fromkeys([*chosen, *([cursor.column] if cursor else [])]))
        schema = pa.schema([pa.field(n, known[names.index(n)].arrow_type) for n in wanted])
        seen = 0
        for page in self._pages(extra):
            rows = [[_value(r.get(n), f.type) for n, f in zip(wanted, schema, strict=True)]
                    for r in page]
            for start in range(0, len(rows), batch_rows):
                chunk = rows[start:start + batch_rows]
                batch = rows_to_batch(self.label, table, chunk, schema, first_row=seen + 1)
                seen += len(chunk)
                if cursor is not None and bound is not None:
                    batch = filter_batch(self.label, batch, cursor, bound)
                yield batch.select(chosen)

    def close(self) -> None:
        return None


KIND = register_kind(SourceKind(
    name="http_json", label="JSON HTTP API", open=HttpJsonSource,
    option_fields=("url", "table", "records_path", "paging", "page_size", "first_page",
                   "page_param", "size_param", "offset_param", "limit_param", "next_path",
                   "cursor_param", "primary_key", "comment", "timeout"),
    secret_fields=("token",)))
