"""CORE's fixtures: the world of world.py on both registries."""

from __future__ import annotations

import pytest

from datapolis.registry.db import Registry
from tests.sharing.core.world import World, build


@pytest.fixture
def world(registry: Registry) -> World:
    """Both registries (SQLite, PostgreSQL) with the published resources and the apps."""
    return build(registry)
