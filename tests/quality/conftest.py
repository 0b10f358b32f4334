"""Quality fixtures: the web app's client with the standards seeded (code tables, elements)."""

from __future__ import annotations

from tests.catalog.conftest import seeded_client

__all__ = ["seeded_client"]
