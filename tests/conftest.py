"""Shared fixtures: real registries on SQLite and PostgreSQL, the real app, real users.

PostgreSQL is at 127.0.0.1:5432 (user postgres, trust auth). Each test session creates its own
throw-away database there. With CI=true an unreachable PostgreSQL fails the run: never skipped.
"""

from __future__ import annotations

import os

# Rich sizes its tables from COLUMNS when output is not a terminal; pytest-xdist's workers
# would otherwise see another width than a plain run and wrap what the CLI tests look for.
os.environ["COLUMNS"] = "200"

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from datapolis.config import Settings
from datapolis.orgs import passwords, service
from datapolis.orgs.models import Organisation, OrgKind, Role, User
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from tests.databases import PG_ADMIN_URL, throwaway_database

# Argon2id at the product's cost (RFC 9106 low-memory profile: 64 MiB, 3 passes) takes about
# 0.15 s per hash and per sign-in here, and the suite makes thousands. The tests check that
# passwords are argon2id-hashed and verified, not how costly that is, so in this process they use
# argon2id at its lowest cost; servers started as subprocesses keep the product's.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("datapolis-timing-equaliser")

PASSWORD = "correct-horse-battery"
TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    yield from throwaway_database(PG_ADMIN_URL, "datapolis_test")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A migrated, empty registry: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    else:
        url = request.getfixturevalue("pg_database_url")
        _reset_postgres(url)
    reg = open_registry(url)
    migrate.upgrade(reg)
    yield reg
    reg.close()


@pytest.fixture
def sqlite_registry(tmp_path: Path) -> Iterator[Registry]:
    """SQLite only, for web tests that do not exercise the store itself."""
    reg = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(reg)
    yield reg
    reg.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)


@dataclass
class City:
    """A small organisation tree: a city, a county, a street and departments at both levels."""

    city: Organisation
    county: Organisation
    street: Organisation
    city_dept: Organisation
    county_dept: Organisation


def make_city(session: Session) -> City:
    city = service.create_organisation(
        session, code="371300", name="临沂市", kind=OrgKind.CITY, division_code="371300"
    )
    county = service.create_organisation(
        session, code="371302", name="兰山区", kind=OrgKind.COUNTY, division_code="371302",
        parent=city,
    )
    street = service.create_organisation(
        session, code="371302001", name="兰山街道", kind=OrgKind.STREET,
        division_code="371302001", parent=county,
    )
    city_dept = service.create_organisation(
        session, code="371300_gaj", name="临沂市公安局", kind=OrgKind.DEPARTMENT,
        division_code="371300", parent=city,
    )
    county_dept = service.create_organisation(
        session, code="371302_gaj", name="兰山区公安分局", kind=OrgKind.DEPARTMENT,
        division_code="371302", parent=county,
    )
    return City(city, county, street, city_dept, county_dept)


def make_users(session: Session, city: City) -> dict[Role, User]:
    """One user per role, all with PASSWORD; usernames are the role names."""
    org_for = {
        Role.PLATFORM_ADMIN: city.city,
        Role.ORG_ADMIN: city.city_dept,
        Role.ORG_USER: city.city_dept,
        Role.AUDITOR: city.city,
    }
    return {
        role: service.create_user(
            session, username=role.value, password=PASSWORD, role=role, org=org
        )
        for role, org in org_for.items()
    }


@pytest.fixture
def app(settings: Settings, sqlite_registry: Registry) -> FastAPI:
    from datapolis.web.app import create_app

    with sqlite_registry.session() as session:
        make_users(session, make_city(session))
    return create_app(settings, sqlite_registry)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # https, because session cookies carry the Secure flag outside dev mode.
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def bearer_for(client: TestClient, role: Role) -> dict[str, str]:
    """Authorization header of a fresh bearer token for the fixture user of `role`."""
    response = client.post(
        "/api/v1/auth/token", data={"username": role.value, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
