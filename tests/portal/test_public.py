"""Registered users on the site (register, sign in, keys with CSRF), applications for a
conditionally open dataset decided by its provider, public data requests answered by the bureau,
error reports triaged by the provider, usage and self-assessment pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from datapolis.config import Settings
from datapolis.errors import NotFound
from datapolis.orgs.models import Role
from datapolis.portal import applications, assessment, datasets
from datapolis.portal.datasets import slug_of
from datapolis.security.audit.models import AuditEvent
from datapolis.web.app import create_app
from tests.conftest import TEST_SECRET_KEY, bearer_for
from tests.portal.conftest import Portal

PASSWORD = "open-data-2026"


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return Settings(env="dev", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                    scheduler=False, sharing_monitor_seconds=0, portal_posts_per_hour=4)


@pytest.fixture
def site(portal: Portal, app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings, portal.registry, portal.engine)) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def register(site: TestClient, username: str = "citizen") -> str:
    answer = site.post("/open/register", data={"username": username,
                                               "email": f"{username}@example.cn",
                                               "password": PASSWORD})
    assert answer.status_code == 200 and "我的账户" in answer.text
    return csrf_of(answer.text)


def test_register_sign_in_and_keys_need_csrf(site: TestClient) -> None:
    csrf = register(site)
    assert site.post("/open/account/keys", data={"name": "x"}).status_code == 403
    made = site.post("/open/account/keys", data={"name": "脚本", "csrf_token": csrf})
    assert made.status_code == 200
    key = re.search(r'id="new-key">(dpk_[^<]+)<', made.text)
    assert key is not None
    assert key.group(1) not in site.get("/open/account").text  # shown once
    site.cookies.clear()
    assert site.get("/open/account", follow_redirects=False).status_code == 303
    wrong = site.post("/open/login", data={"username": "citizen", "password": "wrong-wrong"})
    assert wrong.status_code == 400 and "用户名或密码错误" in wrong.text
    right = site.post("/open/login", data={"username": "citizen", "password": PASSWORD})
    assert right.status_code == 200 and "脚本" in right.text
    taken = site.post("/open/register", data={"username": "citizen", "email": "c@example.cn",
                                              "password": PASSWORD})
    assert taken.status_code == 409


def test_conditional_application_approved_by_the_provider(site: TestClient, portal: Portal
                                                          ) -> None:
    slug = slug_of(portal.codes["conditional"])
    csrf = register(site)
    page = site.get(f"/dataset/{slug}")
    assert "申请使用" in page.text
    assert site.post(f"/dataset/{slug}/apply", data={"purpose": "研究", "csrf_token": csrf}
                     ).status_code == 400
    applied = site.post(f"/dataset/{slug}/apply",
                        data={"purpose": "用于高校企业投资结构研究，不对外提供。",
                              "csrf_token": csrf})
    assert applied.status_code == 200
    assert site.post(f"/dataset/{slug}/apply", data={
        "purpose": "再次申请同一个数据集的用途说明", "csrf_token": csrf}).status_code == 409
    with portal.registry.session() as session:
        found = datasets.get_dataset(session, slug)
        pending = applications.queue(session, found.provider.code)
        assert len(pending) == 1
        # Another department cannot decide it.
        with pytest.raises(NotFound, match="no application"):
            applications.decide(session, application_id=pending[0].id, decision="approve",
                                actor="x", org_code="371300_other")
    staff = bearer_for(site, Role.PLATFORM_ADMIN)
    desk = site.get("/open/manage", headers=staff)
    assert desk.status_code == 200 and "用于高校企业投资结构研究" in desk.text
    decided = site.post(f"/open/manage/applications/{pending[0].id}",
                        data={"decision": "approve", "comment": "同意"}, headers=staff,
                        follow_redirects=False)
    assert decided.status_code == 303
    with portal.registry.session() as session:
        user = applications.of_user(session, applications.queue(
            session, None, applications.APPROVED)[0].user)[0]
        assert user.status == "approved" and user.decided_by == "platform_admin"
        kinds = list(session.scalars(select(AuditEvent.kind).where(
            AuditEvent.kind.like("portal.application.%")).order_by(AuditEvent.id)))
        assert kinds == ["portal.application.submitted", "portal.application.decided"]
    # Approved: the preview (no table landed for this one) is no longer refused.
    assert site.get(f"/dataset/{slug}/preview").status_code == 200
    site.cookies.clear()
    assert site.get(f"/dataset/{slug}/preview").status_code == 403


def test_public_requests_are_answered_publicly(site: TestClient) -> None:
    filed = site.post("/open/requests", data={
        "title": "公交实时到站数据", "description": "希望开放公交车辆实时到站数据，用于出行应用。",
        "requester": "王先生", "contact": "wang@example.cn"}, follow_redirects=False)
    assert filed.status_code == 303
    page = site.get(filed.headers["location"])
    assert "公交实时到站数据" in page.text and "待答复" in page.text
    assert "wang@example.cn" not in page.text  # contact details are never public
    assert site.post("/open/requests", data={"title": "x", "description": "y"}).status_code \
        == 400
    request_id = int(filed.headers["location"].rsplit("/", 1)[-1])
    staff = bearer_for(site, Role.PLATFORM_ADMIN)
    answered = site.post(f"/open/manage/requests/{request_id}", headers=staff, data={
        "answer": "已协调市交通运输局，计划下季度开放。", "status": "answered"},
        follow_redirects=False)
    assert answered.status_code == 303
    listing = site.get("/open/requests", params={"status": "answered"})
    assert "公交实时到站数据" in listing.text
    assert "计划下季度开放" in site.get(f"/open/requests/{request_id}").text
    # Anonymous callers cannot answer; the form is rate limited per address (4 an hour here).
    site.post("/open/requests", data={"title": "第二条需求", "description": "第二条需求的说明文字"})
    site.post("/open/requests", data={"title": "第三条需求", "description": "第三条需求的说明文字"})
    limited = site.post("/open/requests", data={"title": "第四条需求",
                                                "description": "第四条需求的说明文字"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert site.post(f"/open/manage/requests/{request_id}",
                     data={"answer": "x", "status": "answered"}).status_code == 401


def test_error_reports_are_triaged(site: TestClient, portal: Portal) -> None:
    slug = slug_of(portal.codes["open"])
    filed = site.post(f"/dataset/{slug}/report", data={
        "description": "2路的首末站名称有误", "contact": "138"}, follow_redirects=False)
    assert filed.status_code == 303
    assert "2路的首末站名称有误" in site.get(f"/dataset/{slug}").text
    staff = bearer_for(site, Role.PLATFORM_ADMIN)
    desk = site.get("/open/manage", headers=staff)
    report_id = re.search(r'/open/manage/reports/(\d+)', desk.text)
    assert report_id is not None
    assert site.post(f"/open/manage/reports/{report_id.group(1)}", headers=staff, data={
        "status": "fixed", "response": "已更正"}, follow_redirects=False).status_code == 303
    assert "已更正" in site.get(f"/dataset/{slug}").text


def test_usage_and_self_assessment(site: TestClient, portal: Portal) -> None:
    slug = slug_of(portal.codes["open"])
    site.get(f"/dataset/{slug}")
    site.get(f"/dataset/{slug}/download.csv")
    site.app.state.portal_usage.flush()  # type: ignore[attr-defined]
    page = site.get("/open/usage")
    assert page.status_code == 200 and "公交线路信息" in page.text and 'class="chart"' in page.text
    counts = site.get("/open/v1/usage").json()["datasets"]
    assert counts[0]["code"] == portal.codes["open"] and counts[0]["download"] == 1
    with portal.registry.session() as session:
        found = {i.key: i.value for i in assessment.indicators(session, portal.engine)}
    assert found["datasets"] == 2
    assert found["unconditional"] == 50.0
    assert found["average_rows"] == 2  # 3 live rows landed (one soft-deleted) and 0 declared
    assert 0 < found["metadata"] <= 100
    assert found["timeliness"] == 100.0  # both changed today, monthly cycles
    page = site.get("/open/assessment")
    assert page.status_code == 200 and "无条件开放比例" in page.text and "50.0%" in page.text
