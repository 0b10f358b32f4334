"""`datapolis portal ...` in a child process against a real registry: requests answered, an
error report triaged, a bad status refused in one line."""

from __future__ import annotations

from pathlib import Path

from datapolis.portal import datasets, feedback
from tests.commands import run
from tests.portal.conftest import Portal


def test_operator_answers_and_triages(portal: Portal, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with portal.registry.session() as session:
        filed = feedback.file_request(session, title="公交到站数据",
                                      description="希望开放公交车辆实时到站数据。",
                                      contact="wang@example.cn")
        report = feedback.file_report(session, dataset=datasets.get_dataset(
            session, portal.codes["open"]), description="首末站有误")
        request_id, report_id = filed.id, report.id
    url = portal.registry.engine.url.render_as_string(hide_password=False)
    listed = run(home, "portal", "requests", DATAPOLIS_DATABASE_URL=url)
    assert listed.returncode == 0 and "公交到站数据" in listed.stdout
    answered = run(home, "portal", "answer", str(request_id), "--text", "计划下季度开放",
                   "--as", "platform_admin", DATAPOLIS_DATABASE_URL=url)
    assert answered.returncode == 0, answered.stderr
    refused = run(home, "portal", "triage", str(report_id), "--status", "gone", "--text", "x",
                  "--as", "platform_admin", DATAPOLIS_DATABASE_URL=url)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len((refused.stderr + refused.stdout).strip().splitlines()) == 1
    fixed = run(home, "portal", "triage", str(report_id), "--status", "fixed", "--text",
                "已更正", "--as", "platform_admin", DATAPOLIS_DATABASE_URL=url)
    assert fixed.returncode == 0, fixed.stderr
    with portal.registry.session() as session:
        assert feedback.get_request(session, request_id).answer == "计划下季度开放"
        assert feedback.reports(session, status="fixed")[0].response == "已更正"
