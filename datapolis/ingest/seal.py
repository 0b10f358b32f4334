"""Sealing: what happens to rows on their way into ods, before any warehouse write.

Field encryption (security/fields) rewrites designated sensitive columns into ciphertext plus a
blind index. The highway imports no security code for it: an assembly installs one factory
(`install`), each run asks it for a `Sealer` with the run's registry and keyring, and every
landing path (snapshot, incremental, cdc initial snapshot, cdc apply) passes its rows through
`seal_table` / `seal_rows` right before the write. A factory, not a sealer object, is global,
so nothing holds a registry beyond the run that opened it.

A table that already holds sealed columns (a `<column>__bidx` companion) refuses plain rows
when no sealer is at hand: a landing path that forgot to seal fails loudly, it never stores
plaintext where ciphertext belongs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pyarrow as pa

from datapolis.ingest.errors import TerminalSourceError
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.warehouse.engine import Engine

BLIND_INDEX_SUFFIX = "__bidx"


class Sealer(Protocol):
    def columns(self, target: str) -> frozenset[str]:
        """The columns of `target` whose values are sealed on landing (now, not cached)."""

    def seal(self, target: str, rows: pa.Table) -> pa.Table:
        """`rows` with those columns replaced by ciphertext and their blind indexes added."""


SealerFactory = Callable[[Registry, Keyring], Sealer]
_factory: SealerFactory | None = None


def install(factory: SealerFactory) -> None:
    global _factory
    _factory = factory


def uninstall() -> None:
    global _factory
    _factory = None


def for_run(registry: Registry, keyring: Keyring) -> Sealer | None:
    """The sealer a run lands through, or None when no assembly installed one."""
    return _factory(registry, keyring) if _factory is not None else None


def seal_table(engine: Engine, sealer: Sealer | None, target: str, rows: pa.Table) -> pa.Table:
    if sealer is None:
        _refuse_if_sealed(engine, target)
        return rows
    if sealer.columns(target) & set(rows.column_names):
        return sealer.seal(target, rows)
    return rows


def seal_rows(
    engine: Engine, sealer: Sealer | None, target: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The same for change rows (dicts): only the sealed columns go through Arrow and back."""
    if sealer is None:
        _refuse_if_sealed(engine, target)
        return rows
    present = [c for c in rows[0] if c in sealer.columns(target)] if rows else []
    if not present:
        return rows
    plain = pa.table({c: pa.array([row.get(c) for row in rows]) for c in present})
    sealed = sealer.seal(target, plain).to_pydict()
    return [row | {c: values[i] for c, values in sealed.items()} for i, row in enumerate(rows)]


def _refuse_if_sealed(engine: Engine, target: str) -> None:
    if not engine.table_exists(target):
        return
    sealed = [c.name.removesuffix(BLIND_INDEX_SUFFIX) for c in engine.columns(target)
              if c.name.endswith(BLIND_INDEX_SUFFIX)]
    if sealed:
        raise TerminalSourceError(
            f"{target} has encrypted columns ({', '.join(sealed)}) but this landing has no field "
            "sealer installed; land through `datapolis sync` or `datapolis serve`"
        )
