"""The registry schema: migrations match the models, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from datapolis.orgs.models import Organisation, OrgKind
from datapolis.registry import migrate
from datapolis.registry.db import Registry
from datapolis.schema import metadata


def test_migrations_match_the_models(registry: Registry) -> None:
    with registry.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == [], f"models and migrations differ; write a migration: {differences}"
    assert migrate.current_revision(registry) == migrate.head_revision()


def test_downgrade_to_empty_and_back(registry: Registry) -> None:
    migrate.downgrade(registry, "base")
    assert set(inspect(registry.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(registry)
    assert "organisations" in inspect(registry.engine).get_table_names()


def test_times_come_back_aware_and_utc(registry: Registry) -> None:
    shanghai = timezone(timedelta(hours=8))
    with registry.session() as session:
        org = Organisation(code="371300", name="临沂市", kind=OrgKind.CITY, division_code="371300")
        org.created_at = datetime(2026, 1, 1, 8, 0, tzinfo=shanghai)
        session.add(org)
    with registry.session() as session:
        stored = session.scalars(select(Organisation)).one()
        assert stored.created_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
        assert stored.created_at.tzinfo is not None


def test_naive_times_are_refused(registry: Registry) -> None:
    with pytest.raises(Exception, match="naive datetime"), registry.session() as session:
        org = Organisation(code="371300", name="临沂市", kind=OrgKind.CITY, division_code="371300")
        org.created_at = datetime(2026, 1, 1)
        session.add(org)
        session.flush()


def test_a_failed_unit_of_work_leaves_nothing(registry: Registry) -> None:
    with pytest.raises(RuntimeError), registry.session() as session:
        session.add(
            Organisation(code="371300", name="临沂市", kind=OrgKind.CITY, division_code="371300")
        )
        session.flush()
        raise RuntimeError("crash mid-write")
    with registry.session() as session:
        assert session.scalars(select(Organisation)).all() == []
