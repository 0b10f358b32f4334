"""File sources read a single file or every matching file under a directory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datapolis.ingest.errors import TerminalSourceError


class FileSet:
    """The files of one source: table names are paths relative to the directory."""

    def __init__(self, kind: str, options: Mapping[str, Any], suffixes: tuple[str, ...]) -> None:
        if not options.get("path"):
            raise TerminalSourceError(f"{kind} source: option path is required")
        self.root = Path(str(options["path"]))
        self.suffixes = suffixes
        self.label = f"{kind} source {self.root.name}"

    def names(self) -> list[str]:
        if self.root.is_file():
            return [self.root.name]
        if not self.root.is_dir():
            raise TerminalSourceError(f"{self.label}: {self.root} does not exist")
        return sorted(path.relative_to(self.root).as_posix() for path in self.root.rglob("*")
                      if path.is_file() and path.suffix.lower() in self.suffixes)

    def path(self, name: str) -> Path:
        if self.root.is_file():
            if name != self.root.name:
                raise TerminalSourceError(f"{self.label}: no file {name}")
            return self.root
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            raise TerminalSourceError(f"{self.label}: file {name} does not exist")
        return path
