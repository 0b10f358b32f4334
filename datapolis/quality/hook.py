"""Quality after landing: a landed table that has rules is checked again (trigger "sync").

The assemblies install it as they do the catalog's autoregistration. A batch run (snapshot,
incremental) is checked when it ends; a stream reports about once a minute while it runs, so its
table is checked at most every `STREAM_EVERY` — a cdc table has no change marker and every
check of it reads the whole table. A table with an incremental job is checked incrementally
(runner.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from datapolis.ingest import hooks
from datapolis.quality import service
from datapolis.registry.base import utcnow

log = logging.getLogger(__name__)
HOOK_NAME = "quality.after_landing"
STREAM_EVERY = timedelta(minutes=10)


def install() -> None:
    hooks.after_landing(HOOK_NAME, on_landed)


def on_landed(event: hooks.Landed) -> None:
    if not event.final:
        with event.registry.session() as session:
            last = service.last_run(session, event.table, succeeded=False)
            if last is not None and utcnow() - last.started_at < STREAM_EVERY:
                return
    run = service.run_after_landing(event.registry, event.warehouse, event.table)
    if run is not None:
        log.info("quality run %s of %s after %s landed: %s", run.id, event.table,
                 event.job_code, run.status)
