"""Lineage of the highway as OpenLineage run events: source table → ods table, per run.

The registry already records the edge itself (a chosen source table and the ods table it lands
in); these events tell an outside lineage service (Marquez, DataHub, ...) or a file when each
run started, finished or failed. The sink is a setting: empty (off), `file:PATH` (JSON lines)
or an http(s) URL of an OpenLineage endpoint.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport

from datapolis import __version__
from datapolis.errors import ConfigError
from datapolis.ingest.models import SourceTableChoice

log = logging.getLogger(__name__)
NAMESPACE = "datapolis"
PRODUCER = f"https://datapolis.example/datapolis/{__version__}"
WAREHOUSE_NAMESPACE = "duckdb://datapolis-warehouse"


def source_namespace(kind: str, options: dict[str, Any], code: str) -> str:
    """Where a source lives, as OpenLineage names it: scheme://authority, never a password."""
    host = options.get("host")
    if host:
        port = options.get("port")
        return f"{kind}://{host}:{port}" if port else f"{kind}://{host}"
    return f"{kind}://{code}"


class Lineage:
    """Emits run events; failures to deliver are logged, never allowed to fail a sync."""

    def __init__(self, sink: str) -> None:
        self.sink = sink
        self._client: OpenLineageClient | None = None
        if sink.startswith("file:"):
            path = sink.removeprefix("file:")
            transport: Any = FileTransport(FileConfig(log_file_path=path, append=True))
            self._client = OpenLineageClient(transport=transport)
        elif sink.startswith(("http://", "https://")):
            self._client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=sink)))
        elif sink:
            raise ConfigError(f"lineage sink {sink!r} must be empty, file:PATH or an http(s) URL")

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def emit(
        self, state: RunState, *, job_code: str, run_number: int, table: SourceTableChoice
    ) -> None:
        if self._client is None:
            return
        source = table.source
        database = source.options.get("database") or source.options.get("path") or source.code
        event = RunEvent(
            eventTime=datetime.now(UTC).isoformat(),
            producer=PRODUCER,
            eventType=state,
            run=Run(runId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{job_code}#{run_number}"))),
            job=Job(namespace=NAMESPACE, name=job_code),
            inputs=[
                InputDataset(
                    namespace=source_namespace(source.kind, source.options, source.code),
                    name=f"{database}.{table.name}",
                )
            ],
            outputs=[OutputDataset(namespace=WAREHOUSE_NAMESPACE, name=table.target_table)],
        )
        try:
            self._client.emit(event)
        except Exception as exc:  # a lineage service being down must not stop the highway
            log.warning("lineage event for %s not delivered: %s", job_code, exc)
