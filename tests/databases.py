"""Throw-away databases on the real PostgreSQL and MariaDB servers of the machine.

With CI=true an unreachable server fails the run: database tests are never skipped in CI.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "DATAPOLIS_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
MARIADB_ADMIN_URL = os.environ.get(
    "DATAPOLIS_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def throwaway_database(admin_url: str, prefix: str) -> Iterator[str]:
    """Create a database with a random name, yield its URL, drop it afterwards."""
    postgres = admin_url.startswith("postgresql")
    quote = '"' if postgres else "`"
    label = "PostgreSQL" if postgres else "MariaDB"
    name = f"{prefix}_{secrets.token_hex(4)}"
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
        force = " WITH (FORCE)" if postgres else ""
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{force}"))
        admin.dispose()
