"""Shared helpers for the side-by-side benchmarks: results as JSON, ratios as a Rich table.

Every benchmark measures Datapolis and the peer a user would otherwise pick on the same work,
writes `bench/results/<name>.json`, and prints one table whose last column is the ratio.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"
console = Console()


@dataclass
class Comparison:
    """One measured quantity for us and for a peer; higher_is_better says which way wins."""

    metric: str
    ours: float
    peer: float
    peer_name: str
    unit: str = ""
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        """How many times better we are (>1 means we win)."""
        if self.ours == 0 or self.peer == 0:
            return 0.0
        return self.ours / self.peer if self.higher_is_better else self.peer / self.ours


@dataclass
class Timer:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def best_of(runs: int, work: Callable[[], Any]) -> float:
    """Fastest wall time of `runs` calls: the least disturbed by the rest of the machine."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def write_result(name: str, data: dict[str, Any],
                 comparisons: list[Comparison] | None = None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": machine(), **data}
    if comparisons:
        payload["comparisons"] = [
            {"metric": c.metric, "ours": c.ours, "peer": c.peer, "peer_name": c.peer_name,
             "unit": c.unit, "higher_is_better": c.higher_is_better, "ratio": round(c.ratio, 2),
             "note": c.note} for c in comparisons]
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def print_comparisons(title: str, comparisons: list[Comparison]) -> None:
    table = Table(title=title)
    for heading in ("metric", "Datapolis", "peer", "peer value", "ratio", "note"):
        table.add_column(heading, justify="right" if heading in ("Datapolis", "peer value",
                                                                  "ratio") else "left")
    for c in comparisons:
        style = "green" if c.ratio >= 1 else "red"
        table.add_row(c.metric, f"{c.ours:,.1f} {c.unit}".strip(), c.peer_name,
                      f"{c.peer:,.1f} {c.unit}".strip(), f"[{style}]{c.ratio:,.1f}x[/{style}]",
                      c.note)
    console.print(table)


def print_rows(title: str, headings: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for heading in headings:
        table.add_column(heading)
    for row in rows:
        table.add_row(*row)
    console.print(table)
