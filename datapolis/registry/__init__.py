"""The registry: every transactional record, on SQLite (embedded) or PostgreSQL."""

from datapolis.registry.base import Base, TimestampMixin, utcnow
from datapolis.registry.db import Registry, open_registry

__all__ = ["Base", "Registry", "TimestampMixin", "open_registry", "utcnow"]
