"""The open-data portal in Chromium: a visitor searches in Chinese, opens a dataset, previews
it and downloads CSV; a registered user gets an API key and calls the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from datapolis.config import Settings
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.warehouse import DuckDBEngine
from datapolis.web.app import create_app
from datapolis.web.assets import VENDOR_DIR
from tests.conftest import TEST_SECRET_KEY
from tests.portal.conftest import build
from tests.portal.live import serving
from tests.web.test_browser import _watch_console, browser, screenshots  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def portal_site(tmp_path: Path) -> Iterator[str]:
    if not (VENDOR_DIR / "htmx.min.js").is_file():
        pytest.fail("vendor assets missing: run `npm ci && python -m datapolis.web.assets`")
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(registry)
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    build(registry, engine)
    # dev mode: the browser talks plain http to 127.0.0.1, so cookies must not be Secure-only.
    settings = Settings(env="dev", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                        scheduler=False, sharing_monitor_seconds=0)
    with serving(create_app(settings, registry, engine)) as url:
        yield url
    engine.close()
    registry.close()


def test_visitor_downloads_and_user_calls_the_api(
        portal_site: str, browser: Browser, screenshots: Path, tmp_path: Path,  # noqa: F811
) -> None:
    visitor = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                               accept_downloads=True)
    problems = _watch_console(visitor)
    visitor.goto(f"{portal_site}/open")
    expect(visitor.get_by_role("heading", name="公共数据 向社会开放")).to_be_visible()
    search = visitor.get_by_role("searchbox", name="搜索数据集")
    search.fill("公交")
    search.press("Enter")
    expect(visitor.get_by_text("共找到 1 个数据集")).to_be_visible()
    visitor.screenshot(path=str(screenshots / "portal-search.png"), full_page=True)
    visitor.get_by_role("link", name="公交线路信息").click()
    expect(visitor.get_by_role("heading", name="公交线路信息")).to_be_visible()
    preview = visitor.locator("#preview-rows table")
    expect(preview).to_contain_text("K3路")
    expect(preview).not_to_contain_text("371302199001011234")
    visitor.get_by_role("button", name="显示 50 行").click()
    expect(visitor.locator("#preview-rows tbody tr")).to_have_count(3)
    visitor.screenshot(path=str(screenshots / "portal-dataset.png"), full_page=True)
    with visitor.expect_download() as waiting:
        visitor.get_by_role("link", name="CSV", exact=True).click()
    saved = tmp_path / "download.csv"
    waiting.value.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    assert "线路名称" in content.decode("utf-8-sig") and "K3路" in content.decode("utf-8-sig")

    user = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems += _watch_console(user)
    user.goto(f"{portal_site}/open/register")
    user.get_by_label("用户名").fill("citizen_li")
    user.get_by_label("电子邮箱").fill("li@example.cn")
    user.get_by_label("密码").fill("open-data-2026")
    user.get_by_role("button", name="注册").click()
    expect(user.get_by_role("heading", name="我的账户 · citizen_li")).to_be_visible()
    user.get_by_label("密钥名称").fill("脚本")
    user.get_by_role("button", name="创建密钥").click()
    key = user.locator("#new-key").inner_text().strip()
    assert key.startswith("dpk_")
    user.screenshot(path=str(screenshots / "portal-key.png"), full_page=True)
    answer = user.request.get(
        f"{portal_site}/open/v1/datasets/{visitor.url.rsplit('/', 1)[-1]}/rows",
        params={"$select": "xlmc,rjkl", "$where": "rjkl > 5000", "$order": "rjkl desc"},
        headers={"X-API-Key": key})
    assert answer.status == 200
    assert answer.json() == [{"xlmc": "1路", "rjkl": 12000}, {"xlmc": "2路", "rjkl": 8500}]
    assert problems == []
