"""The plugin registry of source kinds; the built-in kinds register here like any plugin."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import Any

from datapolis.errors import UserError
from datapolis.ingest.sources.base import Source, SourceKind

_KINDS: dict[str, SourceKind] = {}
_lock = threading.Lock()
_builtins_loaded = False
BUILTIN_MODULES = ("postgres", "mysql", "sqlite", "csv_files", "xlsx_files", "http_json")


def register_kind(kind: SourceKind, *, replace: bool = False) -> SourceKind:
    """Make a kind available under its name; a second kind of the same name is refused."""
    with _lock:
        if kind.name in _KINDS and not replace and _KINDS[kind.name] is not kind:
            raise UserError(f"source kind {kind.name!r} is already registered")
        _KINDS[kind.name] = kind
    return kind


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    # Importing a built-in module registers its kind, exactly as a plugin would.
    for module in BUILTIN_MODULES:
        importlib.import_module(f"datapolis.ingest.sources.{module}")
    _builtins_loaded = True


def list_kinds() -> list[SourceKind]:
    _load_builtins()
    return sorted(_KINDS.values(), key=lambda kind: kind.name)


def get_kind(name: str) -> SourceKind:
    _load_builtins()
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise UserError(f"unknown source kind {name!r}; known kinds: {known}") from None


def open_source(kind: str, options: Mapping[str, Any], secrets: Mapping[str, str]) -> Source:
    """Build a source of `kind` from its options and its decrypted secrets."""
    source_kind = get_kind(kind)
    unknown = sorted(set(options) - set(source_kind.option_fields))
    if unknown:
        raise UserError(f"{kind} source: unknown option(s) {', '.join(unknown)}; "
                        f"known: {', '.join(source_kind.option_fields)}")
    opened: Source = source_kind.open(options, secrets)
    return opened
