"""`<out>/manifest.json`: what a demo build made, from which seed, and where it put it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datapolis.errors import UserError

MANIFEST = "manifest.json"
VERSION = 1


@dataclass(frozen=True)
class SystemInfo:
    name: str
    title: str
    department: str  # org code in the registry
    storage: str  # sqlite | postgresql | mysql | files
    url: str  # relative path for SQLite files and CSV folders; database URL without password
    tables: dict[str, int]  # rows per table (or per file)
    generate_seconds: float = 0.0
    load_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class Manifest:
    seed: int
    people: int
    as_of: str
    rates: dict[str, float]
    built_at: str
    build_seconds: float
    systems: tuple[SystemInfo, ...]
    truth: dict[str, int]
    version: int = VERSION

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.systems)

    def system(self, name: str) -> SystemInfo:
        for info in self.systems:
            if info.name == name:
                return info
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, out_dir: Path) -> None:
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        (out_dir / MANIFEST).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        path = Path(out_dir) / MANIFEST
        if not path.is_file():
            raise UserError(f"no demo at {out_dir}: {MANIFEST} is missing; "
                            "run `datapolis demo build` first")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            systems = tuple(SystemInfo(**s) for s in data.pop("systems"))
            return cls(systems=systems, **data)
        except (ValueError, TypeError, KeyError) as exc:
            raise UserError(f"{path} is not a demo manifest this version can read: {exc}") \
                from None
