"""The home page: the platform's key numbers, and a menu of what the user may open."""

from __future__ import annotations

import re

import pyarrow as pa
from fastapi.testclient import TestClient

from datapolis.orgs import service
from datapolis.orgs.models import OrgKind
from web.forms import HTML, chart_option, login


def _stats(html: str) -> dict[str, str]:
    pairs = re.findall(
        r'<span class="stat-value">([^<]+)</span>\s*<span class="stat-label">([^<]+)</span>', html
    )
    return {label: value for value, label in pairs}


def test_home_shows_the_key_numbers(client: TestClient) -> None:
    registry = client.app.state.registry  # type: ignore[attr-defined]
    with registry.session() as session:
        city = service.get_organisation(session, "371300")
        service.create_organisation(
            session, code="371300_dsj", name="临沂市大数据局", kind=OrgKind.DEPARTMENT,
            division_code="371300", parent=city,
        )
        service.create_app(session, org=city, name="人口库接口")
        revoked = service.create_app(session, org=city, name="旧系统").app
        service.revoke_app(session, app=revoked)
    warehouse = client.app.state.warehouse  # type: ignore[attr-defined]
    warehouse.write("ods_371300_gaj.persons", pa.table({"id": [1, 2, 3]}))
    login(client, "org_user")
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    assert _stats(page.text) == {
        "市级": "1",
        "县区": "1",
        "乡镇街道": "1",
        "部门": "3",
        "在用用户": "4",
        "API 应用": "1",
        "数据仓库表": "1",
    }
    assert "贴源层" in page.text and "ods_*" in page.text
    departments = chart_option(page.text, "departments-chart")
    assert departments["yAxis"]["data"] == ["临沂市", "兰山区"]  # type: ignore[index]
    assert departments["series"][0]["data"] == [2, 1]  # type: ignore[index]
    users = chart_option(page.text, "users-chart")
    series = users["baseOption"]["series"][0]  # type: ignore[index]
    names = [item["name"] for item in series["data"]]
    assert names == ["平台管理员", "单位管理员", "单位用户", "审计员"]
    assert '<script src="/static/vendor/echarts.min.js' in page.text


def test_capabilities_not_built_yet_show_no_numbers(client: TestClient) -> None:
    login(client, "platform_admin")
    page = client.get("/", headers=HTML).text
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]  # the menu may link them
    for absent in ("数据源", "目录", "资源", "接口调用"):
        assert absent not in main


def test_menu_shows_only_what_the_user_may_open(client: TestClient) -> None:
    login(client, "org_user")
    menu = client.get("/", headers=HTML).text.split('class="main-nav"', 1)[1].split("</nav>")[0]
    links = re.findall(r'<a href="([^"]+)"', menu)
    assert links[0] == "/"
    assert "/users" not in links  # org users may not manage users
    login(client, "platform_admin")
    menu = client.get("/", headers=HTML).text.split('class="main-nav"', 1)[1].split("</nav>")[0]
    assert "/users" in re.findall(r'<a href="([^"]+)"', menu)


def test_pages_without_charts_do_not_load_echarts(client: TestClient) -> None:
    assert "echarts" not in client.get("/login", headers=HTML).text

