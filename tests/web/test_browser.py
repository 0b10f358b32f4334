"""A person's path through the UI, in Debian's Chromium driven by Playwright.

The app runs under a real uvicorn server on a free 127.0.0.1 port with a temporary SQLite
registry. Screenshots go to the test's tmp dir, or to $DATAPOLIS_SCREENSHOTS when set.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from conftest import PASSWORD, TEST_SECRET_KEY, make_city, make_users
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from datapolis.config import Settings
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.web.app import create_app
from datapolis.web.assets import VENDOR_DIR

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[str]:
    """The app served by uvicorn in a thread; yields its base URL."""
    if not (VENDOR_DIR / "htmx.min.js").is_file():
        pytest.fail("vendor assets missing: run `npm ci && python -m datapolis.web.assets`")
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(registry)
    with registry.session() as session:
        make_users(session, make_city(session))
    # dev mode: the browser talks plain http to 127.0.0.1, so cookies must not be Secure-only.
    settings = Settings(env="dev", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)
    app: FastAPI = create_app(settings, registry)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
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


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Debian's chromium is required in CI (make browser installs it)")
        pytest.skip("no /usr/bin/chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("DATAPOLIS_SCREENSHOTS", tmp_path / "screenshots"))
    target.mkdir(parents=True, exist_ok=True)
    return target


def _watch_console(page: Page) -> list[str]:
    """Console errors and failed requests: a CSP violation or a missing asset shows here."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A 401 login page logs "Failed to load resource"; failed assets are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status} {response.url}")
        if response.status >= 400 and "/static/" in response.url
        else None,
    )
    return problems


def test_sign_in_and_see_the_home_page(live_app: str, browser: Browser, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems = _watch_console(page)

    answer = page.goto(f"{live_app}/")
    assert answer is not None and answer.status == 401  # the login form, in place
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.screenshot(path=str(screenshots / "login.png"), full_page=True)

    page.get_by_label("用户名").fill("platform_admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="平台概览")).to_be_visible()
    assert page.url == f"{live_app}/"
    cards = page.locator(".stat")
    expect(cards).to_have_count(7)
    expect(cards.filter(has_text="部门").locator(".stat-value")).to_have_text("2")
    expect(cards.filter(has_text="在用用户").locator(".stat-value")).to_have_text("4")
    layers = page.get_by_role("table").filter(has_text="贴源层")
    expect(layers.get_by_role("row")).to_have_count(6)  # header + ods, std, base, theme, share
    expect(layers).to_contain_text("ods_*")
    menu = page.get_by_role("navigation", name="主菜单")
    expect(menu.get_by_role("link", name="首页")).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-chart-ready=true]")).to_have_count(2)
    expect(page.locator("#users-chart canvas")).to_have_count(1)
    page.screenshot(path=str(screenshots / "home.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Platform overview")).to_be_visible()
    expect(page.locator("[data-chart-ready=true]")).to_have_count(2)
    page.screenshot(path=str(screenshots / "home-en.png"), full_page=True)

    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url == f"{live_app}/login"

    assert problems == []


def test_small_screen_layout(live_app: str, browser: Browser, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    problems = _watch_console(page)
    page.goto(f"{live_app}/login")
    page.get_by_label("用户名").fill("org_user")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="平台概览")).to_be_visible()
    expect(page.locator("[data-chart-ready=true]")).to_have_count(2)
    # Nothing wider than the screen: no sideways scrolling of the whole page.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=str(screenshots / "home-mobile.png"), full_page=True)
    assert problems == []


def test_live_parts_redraw_their_charts_after_each_refresh(
    live_app: str, browser: Browser, screenshots: Path
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems = _watch_console(page)
    page.goto(f"{live_app}/login")
    page.get_by_label("用户名").fill("platform_admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="平台概览")).to_be_visible()

    page.goto(f"{live_app}/highway")
    live = page.locator("#highway-live")
    expect(live.locator("[data-chart-ready=true]")).to_have_count(1)
    page.evaluate("document.getElementById('highway-live').dataset.old = 'yes'")
    # The next refresh replaces the whole live part; its chart must be drawn again.
    expect(page.locator("#highway-live[data-old]")).to_have_count(0, timeout=15_000)
    expect(live.locator("[data-chart-ready=true]")).to_have_count(1)
    expect(live.locator("#minute-rows-chart canvas")).to_have_count(1)
    page.screenshot(path=str(screenshots / "highway.png"), full_page=True)
    assert problems == []
