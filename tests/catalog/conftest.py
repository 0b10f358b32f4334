"""Catalog fixtures: a registry with the standards seeded, the small city and its users."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import City, make_city, make_users
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from datapolis.catalog import service, standards
from datapolis.catalog.schemas import EntryCreate, ItemInput
from datapolis.catalog.versions import Actor
from datapolis.orgs.models import Role, User
from datapolis.registry.db import Registry


@dataclass
class Seeded:
    registry: Registry
    city: City
    users: dict[Role, User]


@pytest.fixture
def seeded(registry: Registry) -> Seeded:
    """Both registries (SQLite, PostgreSQL) with standards, the city and one user per role."""
    with registry.session() as session:
        standards.seed_standards(session)
        city = make_city(session)
        users = make_users(session, city)
    return Seeded(registry, city, users)


@pytest.fixture
def seeded_client(client: TestClient, sqlite_registry: Registry) -> Iterator[TestClient]:
    """The web app's client, its (SQLite) registry seeded with the standards."""
    with sqlite_registry.session() as session:
        standards.seed_standards(session)
    yield client


def population_entry(**changes: Any) -> EntryCreate:
    """A realistic basic population entry of the city police bureau, ready for review."""
    fields: dict[str, Any] = {
        "name": "常住人口基本信息",
        "catalog_type": "basic_population",
        "heading": "001",
        "summary": "全市常住人口的身份、户籍与联系方式信息。",
        "share_type": "conditional",
        "share_conditions": "用于政务服务身份核验",
        "share_methods": ["interface", "tables"],
        "update_cycle": "daily",
        "warehouse_table": "ods_371300_gaj.czrk",
        "tags": ["人口", "户籍"],
        "items": [
            ItemInput(name="公民身份号码", column_name="gmsfhm", length=18,
                      element_code="DE0001", security_grade="3"),
            ItemInput(name="姓名", column_name="xm", length=30),
            ItemInput(name="性别", column_name="xb", length=1),
        ],
    }
    fields.update(changes)
    return EntryCreate.model_validate(fields)


def create(session: Session, provider_code: str = "371300_gaj", **changes: Any) -> str:
    from datapolis.orgs import service as orgs_service

    provider = orgs_service.get_organisation(session, provider_code)
    entry = service.create_entry(session, data=population_entry(**changes), provider=provider,
                                 actor=Actor("org_user"))
    return entry.resource_code
