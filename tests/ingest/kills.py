"""What the kill tests share: watching a `datapolis sync run` worker's runs from outside."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from datapolis.ingest import jobs
from datapolis.registry.db import open_registry


def running_run(home: Path, code: str) -> int | None:
    """The id of the job's newest run while it is marked running (also after a kill)."""
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    try:
        with registry.session() as session:
            runs = jobs.get_job(session, code).runs
            return runs[0].id if runs and runs[0].status == "running" else None
    finally:
        registry.close()


def wait_for_a_new_run(home: Path, code: str, worker: subprocess.Popen[bytes],
                       seen: set[int]) -> None:
    """Until the worker has a run of its own going (or has exited): the CLI's start-up time
    varies with the machine's load, so a kill timed from the spawn can land before any run."""
    deadline = time.monotonic() + 60
    while worker.poll() is None and time.monotonic() < deadline:
        running = running_run(home, code)
        if running is not None and running not in seen:
            return
        time.sleep(0.05)
