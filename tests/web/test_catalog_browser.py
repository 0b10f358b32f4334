"""The catalog in Chromium: a department user searches in Chinese, opens an entry, and a
reviewer of the bureau approves it (fixtures and console watching as in test_browser)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from conftest import PASSWORD, TEST_SECRET_KEY, make_city, make_users
from playwright.sync_api import Browser, Page, expect

from datapolis.catalog import service, standards
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.schemas import EntryCreate, ItemInput
from datapolis.catalog.versions import Actor
from datapolis.config import Settings
from datapolis.orgs import service as orgs_service
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.web.app import create_app
from datapolis.web.assets import VENDOR_DIR
from tests.web.test_browser import _free_port, _watch_console, browser, screenshots  # noqa: F401

pytestmark = pytest.mark.browser


def _entry(name: str, summary: str, heading: str, tags: list[str]) -> EntryCreate:
    return EntryCreate(
        name=name, catalog_type="department", subject="23", heading=heading, summary=summary,
        share_type="conditional", share_conditions="用于社会救助审核", share_methods=["interface"],
        update_cycle="monthly", tags=tags, items=[
            ItemInput(name="公民身份号码", column_name="sfzh", length=18, security_grade="L3"),
            ItemInput(name="姓名", column_name="xm", length=30, security_grade="L2"),
            ItemInput(name="保障金额", column_name="bzje", data_type="decimal", length=10),
        ],
    )


@pytest.fixture
def catalog_app(tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn with a catalog: one submitted entry, two published ones."""
    if not (VENDOR_DIR / "htmx.min.js").is_file():
        pytest.fail("vendor assets missing: run `npm ci && python -m datapolis.web.assets`")
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(registry)
    with registry.session() as session:
        standards.seed_standards(session)
        make_users(session, make_city(session))
        police = orgs_service.get_organisation(session, "371300_gaj")
        user, admin = Actor("org_user"), Actor("org_admin")
        submitted = service.create_entry(session, data=_entry(
            "低保人员名单", "全市城乡最低生活保障对象名单及保障金额，按月更新。", "001",
            ["低保", "社会救助"]), provider=police, actor=user)
        service.transition(session, entry=submitted, action=Action.SUBMIT, actor=admin)
        for name, summary, heading in (
            ("特困人员供养信息", "特困人员的供养方式与供养金额。", "002"),
            ("临时救助对象", "临时救助的对象、事由与金额。", "003"),
        ):
            entry = service.create_entry(session, data=_entry(name, summary, heading,
                                                              ["社会救助"]),
                                         provider=police, actor=user)
            for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
                service.transition(session, entry=entry, action=action,
                                   actor=Actor("platform_admin"))
    settings = Settings(env="dev", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, registry), host="127.0.0.1",
                                           port=(port := _free_port()), log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        registry.close()


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="平台概览")).to_be_visible()


def test_search_open_and_approve(
    catalog_app: str, browser: Browser, screenshots: Path  # noqa: F811
) -> None:
    department = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems = _watch_console(department)
    _sign_in(department, catalog_app, "org_user")
    menu = department.get_by_role("navigation", name="主菜单")
    menu.get_by_role("link", name="资源目录", exact=True).click()
    search = department.get_by_role("searchbox", name="搜索")
    search.fill("低保 名单")
    search.press("Enter")
    hits = department.locator(".search-hits li")
    expect(hits).to_have_count(1)
    expect(hits.first.locator(".hit-name mark")).to_have_text(["低保", "名单"])
    expect(department.get_by_role("heading", name="搜索结果")).to_contain_text("(1)")
    # A broader word finds all three; the share-type facet counts them.
    search = department.get_by_role("searchbox", name="搜索")
    search.fill("救助")
    search.press("Enter")
    expect(hits).to_have_count(3)
    facets = department.get_by_role("complementary")
    expect(facets.get_by_role("link", name="有条件共享")).to_be_visible()
    department.screenshot(path=str(screenshots / "catalog-search.png"), full_page=True)
    facets.get_by_role("link", name="待审核").click()
    expect(hits).to_have_count(1)
    hits.first.get_by_role("link", name="低保人员名单").click()
    expect(department.get_by_role("heading", name="低保人员名单")).to_contain_text("待审核")
    expect(department.get_by_role("cell", name="保障金额", exact=True)).to_be_visible()
    # A department can see its entry under review but not approve it.
    expect(department.get_by_role("button", name="审核通过")).to_have_count(0)
    department.screenshot(path=str(screenshots / "catalog-entry.png"), full_page=True)
    entry_url = department.url

    reviewer = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems += _watch_console(reviewer)
    _sign_in(reviewer, catalog_app, "platform_admin")
    reviewer.get_by_role("navigation", name="主菜单").get_by_role("link", name="目录审核").click()
    queue_row = reviewer.get_by_role("row").filter(has_text="低保人员名单")
    expect(queue_row).to_have_count(1)
    reviewer.goto(entry_url)
    reviewer.get_by_role("button", name="审核通过").click()
    expect(reviewer.get_by_role("heading", name="低保人员名单")).to_contain_text("已审核")
    expect(reviewer.get_by_role("button", name="上架")).to_be_visible()
    reviewer.screenshot(path=str(screenshots / "catalog-approved.png"), full_page=True)
    # The department sees the decision.
    department.reload()
    expect(department.get_by_role("heading", name="低保人员名单")).to_contain_text("已审核")
    assert problems == []
