"""Throw-away PostgreSQL and MariaDB databases for the source tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import MARIADB_ADMIN_URL, PG_ADMIN_URL, throwaway_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from throwaway_database(PG_ADMIN_URL, "src_test")


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    yield from throwaway_database(MARIADB_ADMIN_URL, "src_test")
