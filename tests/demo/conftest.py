"""Demo fixtures: small demo builds and throw-away PostgreSQL / MariaDB databases.

PostgreSQL is at 127.0.0.1:5432 (user postgres, trust auth), MariaDB at 127.0.0.1:3306 (root,
empty password). With CI=true an unreachable server fails the run; it is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from datapolis.demo import DirtRates, Manifest, build_demo
from tests.databases import MARIADB_ADMIN_URL, PG_ADMIN_URL, throwaway_database

PEOPLE = 2000
SEED = 7
# High rates so a 2,000-person city shows every kind of dirt often enough to measure.
HIGH_RATES = DirtRates(check_digit=0.05, legacy_id15=0.05, fullwidth=0.05, date_format=0.2,
                       blank=0.05, stale=0.1, conflict=0.1, exact_duplicate=0.03,
                       near_duplicate=0.03)


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from throwaway_database(PG_ADMIN_URL, "demo_test")


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    yield from throwaway_database(MARIADB_ADMIN_URL, "demo_test")


@pytest.fixture(scope="session")
def dirty_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """A small city with high dirt rates, built once for the read-only tests."""
    out = tmp_path_factory.mktemp("dirty") / "demo"
    return out, build_demo(out_dir=out, people=PEOPLE, seed=SEED, rates=HIGH_RATES)
