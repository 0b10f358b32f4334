"""Standardisation after landing: a landed ods table rebuilds the std tables that read it.

The assemblies (`cli.py`, `web/app.py`) install it, as they do the catalog's. Streams report
at most once a minute, so a stream rebuilds its std table at most that often.
"""

from __future__ import annotations

import logging

from datapolis.config import get_settings
from datapolis.ingest import hooks
from datapolis.standardise import build as std_build
from datapolis.standardise import stored
from datapolis.standardise.spec import specs_reading
from datapolis.warehouse.layers import ODS_PREFIX

log = logging.getLogger(__name__)
HOOK_NAME = "standardise.after_landing"


def install() -> None:
    hooks.after_landing(HOOK_NAME, on_landed)


def on_landed(event: hooks.Landed) -> None:
    if not event.table.startswith(ODS_PREFIX):  # std and base builds announce themselves too
        return
    with event.registry.session() as session:
        specs = stored.effective_specs(session, get_settings().home)
    for spec in specs_reading(specs, event.table):
        result = std_build.build(event.registry, event.warehouse, spec,
                                 trigger=f"landing:{event.job_code}", keyring=event.keyring)
        log.info("rebuilt %s after %s landed: %d rows in, %d out", result.table, event.table,
                 result.rows_in, result.rows_out)
