"""Issues of a rule that was disabled or deleted close as "rule withdrawn" (a terminal state
of their own) with a history entry and an audit event, on SQLite and PostgreSQL; a rule that
comes back and fails reopens its issue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from datapolis.quality import service
from datapolis.quality.issues import service as issues
from datapolis.quality.issues import states
from datapolis.quality.issues.models import QualityIssue
from datapolis.quality.schemas import RuleIn
from datapolis.registry.db import Registry
from datapolis.security.audit import service as audit
from datapolis.security.audit.models import AuditEvent
from datapolis.warehouse import DuckDBEngine
from tests.quality.issue_world import CITY_TABLE, build


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    yield engine
    engine.close()


@pytest.fixture
def world(registry: Registry, warehouse: DuckDBEngine) -> dict[str, int]:
    return build(registry, warehouse)


def _issue(registry: Registry) -> QualityIssue:
    with registry.session() as session:
        (issue,) = issues.list_issues(session, table=CITY_TABLE)
        _ = issue.events
        session.expunge_all()
        return issue


def _withdrawals(registry: Registry) -> list[tuple[str, str | None]]:
    with registry.session() as session:
        return [(e.actor, json.loads(e.canonical)["details"]["comment"]) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "quality.issue.withdrawn")
            .order_by(AuditEvent.seq))]


def _mobile_rule(enabled: bool) -> RuleIn:
    return RuleIn(kind="mobile", columns=["sjhm"], severity="error", enabled=enabled)


def test_disabling_a_rule_withdraws_its_issue_and_a_failing_comeback_reopens_it(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    service.run_table(registry, warehouse, CITY_TABLE)
    assert _issue(registry).state == states.OPEN
    with registry.session() as session:
        audit.act_as(session, "org_admin", "371300_gaj")
        service.update_rule(session, service.get_rule(session, world[CITY_TABLE]),
                            _mobile_rule(False), admin=True)
    issue = _issue(registry)
    assert (issue.state, issue.failed) == (states.WITHDRAWN, 0)
    last = issue.events[-1]
    assert (last.from_state, last.to_state, last.actor) == ("open", "withdrawn", "org_admin")
    assert last.comment is not None and "rule withdrawn" in last.comment
    assert _withdrawals(registry) == [("org_admin", last.comment)]
    # Runs without the rule leave it withdrawn; it is not a fix, so no rectification counts it.
    service.run_table(registry, warehouse, CITY_TABLE)
    assert _issue(registry).state == states.WITHDRAWN
    with registry.session() as session:
        rates = {r.org_code: r for r in issues.rectification(session)}
        assert "371300_gaj" not in rates or rates["371300_gaj"].verified == 0
        # The rule comes back and still fails: the one issue reopens, no second one.
        service.update_rule(session, service.get_rule(session, world[CITY_TABLE]),
                            _mobile_rule(True), admin=True)
    service.run_table(registry, warehouse, CITY_TABLE)
    again = _issue(registry)
    assert (again.id, again.state, again.failed) == (issue.id, states.REOPENED, 3)


def test_deleting_a_rule_withdraws_its_issue(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    service.run_table(registry, warehouse, CITY_TABLE)
    with registry.session() as session:
        service.delete_rule(session, service.get_rule(session, world[CITY_TABLE]), admin=True)
    issue = _issue(registry)
    assert (issue.state, issue.rule_id) == (states.WITHDRAWN, None)
    assert issue.events[-1].actor == audit.SYSTEM_ACTOR  # no one acted through the session
    assert len(_withdrawals(registry)) == 1
    service.run_table(registry, warehouse, CITY_TABLE)  # nothing more happens to it
    assert len(_issue(registry).events) == 2


def test_a_run_withdraws_issues_left_open_by_rules_gone_earlier(
    registry: Registry, warehouse: DuckDBEngine, world: dict[str, int]
) -> None:
    """Issues a rule left open before rules withdrew them (data of an older version)."""
    service.run_table(registry, warehouse, CITY_TABLE)
    with registry.session() as session:  # behind the service's back, as an old version did
        rule = service.get_rule(session, world[CITY_TABLE])
        rule.enabled = False
    service.run_table(registry, warehouse, CITY_TABLE)
    issue = _issue(registry)
    assert issue.state == states.WITHDRAWN
    assert issue.events[-1].comment == issues.WITHDRAWN_BECAUSE.format(why="disabled")
    assert _withdrawals(registry)[0][0] == audit.SYSTEM_ACTOR
