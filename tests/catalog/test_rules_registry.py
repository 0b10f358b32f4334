"""Normalisation rules against real registries (SQLite and PostgreSQL): the context built from
the catalog and the data highway, the publish gate and the report per organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from datapolis.catalog import service
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.rules.checks import BlockedByRules, Outcome, check_one
from datapolis.catalog.rules.context import build_context
from datapolis.catalog.rules.report import build_report
from datapolis.catalog.schemas import EntryUpdate
from datapolis.catalog.versions import Actor
from datapolis.ingest.freshness import landed_by_table
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob, SyncMinute, SyncRun
from datapolis.orgs import service as orgs_service
from datapolis.registry.base import utcnow
from tests.catalog.conftest import Seeded, create

REVIEWER = Actor("platform_admin")


def outcomes(session: Session, code: str) -> dict[str, Outcome]:
    entry = service.get_entry(session, code)
    return {r.rule.code: r.outcome for r in check_one(session, entry)}


def approve(session: Session, code: str) -> None:
    entry = service.get_entry(session, code)
    for action in (Action.SUBMIT, Action.APPROVE):
        service.transition(session, entry=entry, action=action, actor=REVIEWER)


def job_for(session: Session, table: str, *, mode: str = "snapshot") -> SyncJob:
    org = orgs_service.get_organisation(session, "371300_gaj")
    source = Source(code=f"src_{table.split('.')[1]}", name="人口库", kind="sqlite", org=org,
                    options={})
    choice = SourceTableChoice(source=source, name=table.split(".")[1], target_table=table)
    job = SyncJob(code=f"job.{table}", table=choice, mode=mode)
    session.add(job)
    session.flush()
    return job


def test_publishing_waits_until_no_blocking_rule_fails(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        code = create(session, summary="人口信息一览表")  # 7 characters
        approve(session, code)
        entry = service.get_entry(session, code)
        with pytest.raises(BlockedByRules) as blocked:
            service.transition(session, entry=entry, action=Action.PUBLISH, actor=REVIEWER)
    assert blocked.value.codes == ["R02"] and blocked.value.status_code == 409
    assert "R02 Summary given" in str(blocked.value) and "has 7 characters" in str(blocked.value)
    with seeded.registry.session() as session:
        entry = service.get_entry(session, code)
        assert entry.status is EntryStatus.APPROVED and entry.publish_date is None
        service.transition(session, entry=entry, action=Action.REJECT, actor=REVIEWER,
                           comment="摘要过短")
        data = EntryUpdate.model_validate(
            {**_editable(entry), "summary": "全市常住人口的身份、户籍与联系方式信息。"})
        service.update_entry(session, entry=entry, data=data, actor=REVIEWER)
        approve(session, code)
        service.transition(session, entry=entry, action=Action.PUBLISH, actor=REVIEWER)
        assert entry.status is EntryStatus.PUBLISHED


def _editable(entry: object) -> dict[str, object]:
    from datapolis.catalog.schemas import EntryPublic

    public = EntryPublic.of(entry).model_dump()  # type: ignore[arg-type]
    keys = set(EntryUpdate.model_fields)
    data = {k: v for k, v in public.items() if k in keys}
    data["items"] = [{k: v for k, v in item.items()
                      if k in {"name", "column_name", "data_type", "length", "description",
                               "security_grade", "element_code"}} for item in public["items"]]
    return data


def test_duplicates_and_retired_relations_are_seen_across_entries(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        first = create(session)
        second = create(session, name="常住人口 基本信息")  # same table, name, class
        theme = create(session, name="人口主题库", catalog_type="theme", subject="01",
                       heading="001", related_codes=[first])
        first_outcomes, theme_outcomes = outcomes(session, first), outcomes(session, theme)
        assert first_outcomes["R48"] is first_outcomes["R49"] is Outcome.FAILED
        assert theme_outcomes["R48"] is Outcome.PASSED  # another class may share the table
        approve(session, theme)
        assert outcomes(session, theme)["R47"] is Outcome.PASSED
        # Retiring the second makes the first unique again; a retired relation blocks the theme.
        for code in (second, first):
            entry = service.get_entry(session, code)
            if code == first:
                approve(session, code)
                service.transition(session, entry=entry, action=Action.PUBLISH, actor=REVIEWER)
                service.transition(session, entry=entry, action=Action.RETIRE, actor=REVIEWER)
            else:
                entry.status = EntryStatus.RETIRED
                session.flush()
        with pytest.raises(BlockedByRules) as blocked:
            service.transition(session, entry=service.get_entry(session, theme),
                               action=Action.PUBLISH, actor=REVIEWER)
    assert blocked.value.codes == ["R47"]


def test_freshness_comes_from_the_highway_runs_and_stream_minutes(seeded: Seeded) -> None:
    now = utcnow()
    with seeded.registry.session() as session:
        code = create(session)  # daily, ods_371300_gaj.czrk
        assert outcomes(session, code)["R41"] is Outcome.FAILED  # no job lands there yet
        job = job_for(session, "ods_371300_gaj.czrk")
        assert landed_by_table(session) == {"ods_371300_gaj.czrk": None}
        assert outcomes(session, code)["R40"] is Outcome.FAILED  # never landed
        session.add_all([
            SyncRun(job=job, started_at=now - timedelta(days=4), ended_at=now - timedelta(days=4),
                    status="succeeded"),
            SyncRun(job=job, started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=2),
                    status="failed"),
        ])
        session.flush()
        ctx = build_context(session, now=now)
        assert ctx.landed["ods_371300_gaj.czrk"] == now - timedelta(days=4)
        result = {r.rule.code: r for r in check_one(session, service.get_entry(session, code))}
        assert result["R40"].outcome is Outcome.FAILED
        assert "last refreshed 4 d ago" in result["R40"].findings[0].text()
        assert result["R41"].outcome is Outcome.PASSED
        # A stream never ends its run: the minutes it landed rows in count.
        session.add(SyncMinute(job_id=job.id, minute=now - timedelta(hours=1), rows=12))
        session.add(SyncMinute(job_id=job.id, minute=now - timedelta(minutes=5), rows=0))
        session.flush()
        assert landed_by_table(session)["ods_371300_gaj.czrk"] == now - timedelta(hours=1)
        assert outcomes(session, code)["R40"] is Outcome.PASSED


def test_the_report_sums_up_each_provider(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        good = create(session)
        create(session, name="户籍人口信息", warehouse_table="ods_371300_gaj.hjrk",
               share_conditions=None)  # R15 fails
        county = create(session, provider_code="371302_gaj", name="兰山区户籍人口",
                        warehouse_table="ods_371302_gaj.hjrk", tags=[])  # R07 (warning)
        entries = service.list_entries(session, provider_ids=None)
        report = build_report(entries, build_context(session))
        city, lanshan = report.orgs
        assert (city.org.code, lanshan.org.code) == ("371300_gaj", "371302_gaj")
        assert [row.entry.resource_code for row in lanshan.rows] == [county]
        assert city.entries_blocked == 1 and lanshan.entries_blocked == 0
        assert city.counts.failed_blocking == 1
        assert lanshan.counts.failed_blocking == 0 and lanshan.counts.failed_warning >= 1
        assert city.rows[0].entry.resource_code == good and not city.rows[0].blocked
        rules = len(report.rules)
        for org in report.orgs:
            counts = org.counts
            assert counts.checked + counts.not_applicable == rules * len(org.rows)
            assert counts.pass_rate is not None and 0 < counts.pass_rate < 1
        assert report.failing_rules()["R15"] == 1
        assert report.counts.passed == city.counts.passed + lanshan.counts.passed
