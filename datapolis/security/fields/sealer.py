"""The sealer the data highway lands through: protected columns become SM4 ciphertext plus an
HMAC-SM3 blind index before any warehouse write (see ingest/seal.py).

Designations are read from the registry for every batch, never cached: a column protected
while a stream runs is sealed from the stream's next batch on.
"""

from __future__ import annotations

import pyarrow as pa

from datapolis.ingest import seal
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.security.fields import service


class FieldSealer:
    def __init__(self, registry: Registry, master: Keyring) -> None:
        self.registry, self.master = registry, master

    def columns(self, target: str) -> frozenset[str]:
        with self.registry.session() as session:
            return frozenset(service.live_protections(session, target))

    def seal(self, target: str, rows: pa.Table) -> pa.Table:
        with self.registry.session() as session:
            return service.sealed_arrow(session, self.master, target, rows)


def install() -> None:
    """Make every sync run seal protected columns (called by the assemblies)."""
    seal.install(FieldSealer)
