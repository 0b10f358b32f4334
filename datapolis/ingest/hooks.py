"""Hooks of the data highway: what other slices run after a job lands rows in a table.

The assemblies (`web/app.py`, `cli.py`) register them, so the highway imports no slice that
reacts to it (the catalog registers and profiles landed tables this way). A hook runs in the
thread of the run, after the run is recorded; its failure is logged and never fails the run.
Streams report at most every `stream.LANDED_EVERY_SECONDS` and when they stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.warehouse.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Landed:
    """A job landed rows in `table` (an ods table, `schema.table`)."""

    registry: Registry
    warehouse: Engine
    keyring: Keyring
    job_code: str
    table: str
    mode: str  # snapshot | incremental | cdc
    rows: int  # rows the run has landed so far
    final: bool  # False: a stream reporting while it runs


LandedHook = Callable[[Landed], None]
_AFTER_LANDING: dict[str, LandedHook] = {}


def after_landing(name: str, hook: LandedHook) -> None:
    """Run `hook` after every landing; registering a name again replaces its hook."""
    _AFTER_LANDING[name] = hook


def remove(name: str) -> None:
    _AFTER_LANDING.pop(name, None)


def registered() -> list[str]:
    return list(_AFTER_LANDING)


def landed(event: Landed) -> None:
    for name, hook in list(_AFTER_LANDING.items()):
        try:
            hook(event)
        except Exception:
            log.exception("hook %s failed after job %s landed in %s", name, event.job_code,
                          event.table)
