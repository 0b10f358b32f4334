"""Demo fixtures: small demo builds and throw-away PostgreSQL / MariaDB databases.

PostgreSQL is at 127.0.0.1:5432 (user postgres, trust auth), MariaDB at 127.0.0.1:3306 (root,
empty password). With CI=true an unreachable server fails the run; it is never skipped.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from datapolis.demo import DirtRates, Manifest, build_demo

PG_ADMIN = os.environ.get("DATAPOLIS_TEST_PG_URL",
                          "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("DATAPOLIS_TEST_MARIADB_URL",
                               "mysql+pymysql://root@127.0.0.1:3306/mysql")
IN_CI = os.environ.get("CI", "").lower() == "true"
PEOPLE = 2000
SEED = 7
# High rates so a 2,000-person city shows every kind of dirt often enough to measure.
HIGH_RATES = DirtRates(check_digit=0.05, legacy_id15=0.05, fullwidth=0.05, date_format=0.2,
                       blank=0.05, stale=0.1, conflict=0.1, exact_duplicate=0.03,
                       near_duplicate=0.03)


def _throwaway(admin_url: str, quote: str, label: str) -> Iterator[str]:
    name = f"demo_test_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    except Exception as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"{label} is required in CI and unreachable: {exc}")
        pytest.skip(f"{label} unreachable: {exc}")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _throwaway(PG_ADMIN, '"', "PostgreSQL")


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    yield from _throwaway(MARIADB_ADMIN, "`", "MariaDB")


@pytest.fixture(scope="session")
def dirty_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """A small city with high dirt rates, built once for the read-only tests."""
    out = tmp_path_factory.mktemp("dirty") / "demo"
    return out, build_demo(out_dir=out, people=PEOPLE, seed=SEED, rates=HIGH_RATES)
