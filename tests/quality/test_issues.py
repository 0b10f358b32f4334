"""The rectification loop on SQLite and PostgreSQL registries: runs open one issue per table
and rule, people move it, the next run verifies or reopens it; overdue issues and
rectification rates; every change in the history and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from datapolis.errors import Conflict
from datapolis.quality import service
from datapolis.quality.issues import service as issues
from datapolis.quality.issues import states
from datapolis.quality.issues.models import QualityIssue
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.security.audit.models import AuditEvent
from datapolis.warehouse import DuckDBEngine
from tests.quality.issue_world import BAD, CITY_TABLE, COUNTY_TABLE, GOOD, build, load


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    yield engine
    engine.close()


@pytest.fixture
def world(registry: Registry, warehouse: DuckDBEngine) -> dict[str, int]:
    return build(registry, warehouse)


def _issues(registry: Registry, table: str = CITY_TABLE) -> list[QualityIssue]:
    with registry.session() as session:
        found = issues.list_issues(session, table=table)
        for issue in found:
            _ = issue.events, issue.org
        session.expunge_all()
        return found


def _move(registry: Registry, issue_id: int, target: str, comment: str = "") -> None:
    with registry.session() as session:
        issues.transition(session, issues.get_issue(session, issue_id), target,
                          actor="org_user", comment=comment)


def _kinds(registry: Registry) -> list[str]:
    with registry.session() as session:
        return list(session.scalars(select(AuditEvent.kind).where(
            AuditEvent.kind.startswith("quality.issue.")).order_by(AuditEvent.seq)))


def test_a_failing_rule_opens_one_issue_that_later_runs_update(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    service.run_table(registry, warehouse, CITY_TABLE)
    (issue,) = _issues(registry)
    assert (issue.state, issue.failed, issue.checked, issue.rule_id) == (
        "open", 3, 10, world[CITY_TABLE])
    assert issue.org is not None and issue.org.code == "371300_gaj"  # from ods_<org>
    assert issue.due_at - issue.opened_at == timedelta(days=7)  # error severity
    assert [row["sjhm"] for row in issue.sample] == [BAD] * 3
    load(warehouse, CITY_TABLE, [BAD] * 5 + [GOOD] * 5)
    service.run_table(registry, warehouse, CITY_TABLE, changed_only=False)
    (again,) = _issues(registry)  # the same issue, not a second one
    assert (again.id, again.state, again.failed) == (issue.id, "open", 5)
    assert len(again.events) == 1
    assert _kinds(registry) == ["quality.issue.open"]


def test_the_state_machine_and_verification_on_the_next_run(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    service.run_table(registry, warehouse, CITY_TABLE)
    (issue,) = _issues(registry)
    with pytest.raises(Conflict, match="cannot go from open to submitted"):
        _move(registry, issue.id, states.SUBMITTED)
    with pytest.raises(Conflict, match="unknown issue state"):
        _move(registry, issue.id, "done")
    _move(registry, issue.id, states.ACKNOWLEDGED, "seen")
    _move(registry, issue.id, states.RECTIFYING)
    _move(registry, issue.id, states.SUBMITTED, "phones corrected")
    with pytest.raises(Conflict, match="move only when the table is checked again"):
        _move(registry, issue.id, states.VERIFIED)
    load(warehouse, CITY_TABLE, [GOOD] * 10)
    service.run_table(registry, warehouse, CITY_TABLE, changed_only=False)
    (done,) = _issues(registry)
    assert (done.state, done.failed) == ("verified", 0)
    assert [(e.from_state, e.to_state, e.actor) for e in done.events] == [
        (None, "open", "system"), ("open", "acknowledged", "org_user"),
        ("acknowledged", "rectifying", "org_user"), ("rectifying", "submitted", "org_user"),
        ("submitted", "verified", "system")]
    assert done.events[1].comment == "seen" and done.events[3].comment == "phones corrected"
    assert _kinds(registry) == ["quality.issue.open", "quality.issue.acknowledged",
                                "quality.issue.rectifying", "quality.issue.submitted",
                                "quality.issue.verified"]
    with registry.session() as session:
        (rate,) = issues.rectification(session)
    assert (rate.opened, rate.verified, rate.rate, rate.on_time_share) == (1, 1, 1.0, 1.0)


def test_a_submission_that_still_fails_is_reopened_and_rectified_again(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    service.run_table(registry, warehouse, CITY_TABLE)
    (issue,) = _issues(registry)
    for target in (states.ACKNOWLEDGED, states.RECTIFYING, states.SUBMITTED):
        _move(registry, issue.id, target)
    load(warehouse, CITY_TABLE, [BAD] + [GOOD] * 9)
    service.run_table(registry, warehouse, CITY_TABLE, changed_only=False)
    (reopened,) = _issues(registry)
    assert (reopened.state, reopened.failed) == ("reopened", 1)
    assert "still fails" in (reopened.events[-1].comment or "")
    assert reopened.due_at > issue.due_at  # a fresh deadline
    with pytest.raises(Conflict):
        _move(registry, issue.id, states.SUBMITTED)
    _move(registry, issue.id, states.RECTIFYING)
    assert _issues(registry)[0].state == "rectifying"
    assert _kinds(registry)[-2:] == ["quality.issue.reopened", "quality.issue.rectifying"]


def test_an_open_issue_whose_rule_passes_closes_and_a_verified_one_reopens(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    service.run_table(registry, warehouse, CITY_TABLE)
    load(warehouse, CITY_TABLE, [GOOD] * 10)
    service.run_table(registry, warehouse, CITY_TABLE, changed_only=False)
    (issue,) = _issues(registry)
    assert issue.state == "verified" and issue.submitted_at is None
    assert "closed without a submission" in (issue.events[-1].comment or "")
    load(warehouse, CITY_TABLE, [BAD] * 2 + [GOOD] * 8)
    service.run_table(registry, warehouse, CITY_TABLE, changed_only=False)
    (again,) = _issues(registry)
    assert (again.id, again.state, again.failed) == (issue.id, "reopened", 2)


def test_overdue_issues_are_marked_listed_and_counted(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    service.run_table(registry, warehouse, CITY_TABLE)
    service.run_table(registry, warehouse, COUNTY_TABLE)
    (late,) = _issues(registry)
    with registry.session() as session:
        session.get_one(QualityIssue, late.id).due_at = utcnow() - timedelta(hours=1)
    with registry.session() as session:
        overdue = issues.list_issues(session, overdue=True)
        assert [i.id for i in overdue] == [late.id] and issues.is_overdue(overdue[0])
        assert late.id not in [i.id for i in issues.list_issues(session, overdue=False)]
        rates = {r.org_code: r for r in issues.rectification(session)}
    assert (rates["371300_gaj"].overdue, rates["371300_gaj"].pending) == (1, 1)
    assert (rates["371302_gaj"].overdue, rates["371302_gaj"].rate) == (0, 0.0)
    _move(registry, late.id, states.ACKNOWLEDGED)
    _move(registry, late.id, states.RECTIFYING)
    _move(registry, late.id, states.SUBMITTED)  # submitted: the department's part is done
    with registry.session() as session:
        assert issues.list_issues(session, overdue=True) == []
    load(warehouse, CITY_TABLE, [GOOD] * 10)
    service.run_table(registry, warehouse, CITY_TABLE, changed_only=False)
    with registry.session() as session:
        rates = {r.org_code: r for r in issues.rectification(session)}
    assert (rates["371300_gaj"].rate, rates["371300_gaj"].on_time_share) == (1.0, 0.0)
