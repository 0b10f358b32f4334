"""Quality after landing: a landed table that has rules is checked again (trigger "sync").

The assemblies install it as they do the catalog's autoregistration. A stream reports at most
once a minute, so its table is checked at most that often; a run of a table with an
incremental job reads only the rows that changed since the last check (runner.py).
"""

from __future__ import annotations

import logging

from datapolis.ingest import hooks
from datapolis.quality import service

log = logging.getLogger(__name__)
HOOK_NAME = "quality.after_landing"


def install() -> None:
    hooks.after_landing(HOOK_NAME, on_landed)


def on_landed(event: hooks.Landed) -> None:
    run = service.run_after_landing(event.registry, event.warehouse, event.table)
    if run is not None:
        log.info("quality run %s of %s after %s landed: %s", run.id, event.table,
                 event.job_code, run.status)
