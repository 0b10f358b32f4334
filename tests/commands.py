"""Running the real `datapolis` command in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DATAPOLIS = str(Path(sys.executable).parent / "datapolis")


def run(
    home: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`datapolis ARGS` with DATAPOLIS_HOME=home and no other DATAPOLIS_* from outside."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATAPOLIS_")}
    clean.update({"DATAPOLIS_HOME": str(home), "COLUMNS": "200", **env})
    return subprocess.run(
        [DATAPOLIS, *args], input=stdin, capture_output=True, text=True, env=clean,
        timeout=120, check=False,
    )
