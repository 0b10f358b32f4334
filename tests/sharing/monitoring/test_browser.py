"""The monitoring page in Chromium: every chart (the Sankey included) draws under the CSP, and
the bureau acknowledges an alert from the list."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, expect

from datapolis.config import Settings
from datapolis.registry import migrate
from datapolis.registry.base import utcnow
from datapolis.registry.db import open_registry
from datapolis.sharing.monitoring import alerts
from datapolis.sharing.monitoring.monitor import run_once
from datapolis.web.app import create_app
from tests.conftest import PASSWORD, TEST_SECRET_KEY, make_city, make_users
from tests.sharing.monitoring.world import add_calls, make_callers
from tests.web.test_browser import _free_port, _watch_console, browser, screenshots

__all__ = ["browser", "screenshots"]  # fixtures shared with the web browser tests
pytestmark = pytest.mark.browser


@pytest.fixture
def live_monitor(tmp_path: Path) -> Iterator[str]:
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(registry)
    now = utcnow()
    with registry.session() as session:
        city = make_city(session)
        make_users(session, city)
        callers = make_callers(session, city)
        for minutes, n in ((150, 40), (90, 25), (30, 60)):
            add_calls(session, callers.county_app, city.city_dept.id,
                      now - timedelta(minutes=minutes), n, rows=5, latency_ms=float(minutes))
        add_calls(session, callers.street_app, city.city_dept.id, now - timedelta(minutes=20),
                  3, status=403, error_code="no_grant", rows=0)
        run_once(session, alerts.Rules(), now=now)
    settings = Settings(env="dev", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                        sharing_monitor_seconds=0)
    app: FastAPI = create_app(settings, registry)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        registry.close()


def test_charts_draw_and_an_alert_is_acknowledged(live_monitor: str, browser: Browser,
                                                   screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems = _watch_console(page)
    page.goto(f"{live_monitor}/login")
    page.get_by_label("用户名").fill("platform_admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_monitor}/sharing/monitor")
    expect(page.get_by_role("heading", name="接口监控", exact=True)).to_be_visible()
    for chart in ("volume-chart", "consumers-chart", "providers-chart", "flow-chart",
                  "latency-chart"):
        expect(page.locator(f"#{chart} canvas")).to_have_count(1)
    page.wait_for_timeout(1500)  # for the screenshot only: let the charts' animations end
    page.screenshot(path=str(screenshots / "sharing-monitor.png"), full_page=True)

    page.get_by_role("link", name="共享告警").first.click()
    expect(page.get_by_role("heading", name="共享告警")).to_be_visible()
    page.get_by_label("意见").fill("已联系兰山街道补办申请")
    page.get_by_role("button", name="确认").click()
    page.get_by_label("状态").select_option("acknowledged")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_text("已联系兰山街道补办申请")).to_be_visible()
    page.screenshot(path=str(screenshots / "sharing-alerts.png"), full_page=True)
    assert problems == []
