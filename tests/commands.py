"""Running the real `datapolis` command in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DATAPOLIS = str(Path(sys.executable).parent / "datapolis")


def environment(home: Path, **env: str) -> dict[str, str]:
    """This process's environment with DATAPOLIS_HOME=home and no other DATAPOLIS_* setting."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATAPOLIS_")}
    clean.update({"DATAPOLIS_HOME": str(home), "COLUMNS": "200", **env})
    return clean


def run(
    home: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`datapolis ARGS` run to the end in `environment(home, **env)`."""
    return subprocess.run(
        [DATAPOLIS, *args], input=stdin, capture_output=True, text=True,
        env=environment(home, **env), timeout=120, check=False,
    )
