"""The governance builds page: specs and base libraries with their last builds (who, rows,
seconds, status), rebuilds by the bureau only (CSRF), the conflicts list paged and filtered by
library, field and department, each conflict linked to the issue opened for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY
from fastapi.testclient import TestClient

from datapolis.config import Settings
from datapolis.quality import service as quality
from datapolis.quality.issues import service as issues
from datapolis.quality.schemas import RuleIn
from datapolis.registry.db import Registry
from datapolis.standardise import build as std_build
from datapolis.warehouse import DuckDBEngine
from datapolis.web.app import create_app
from tests.baselib.small_city import ID_A, ID_B, ID_C, build_city
from tests.web.forms import HTML, form_token, login

PAGE = "/governance/builds"


@pytest.fixture
def client(tmp_path: Path, sqlite_registry: Registry) -> Iterator[TestClient]:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)
    warehouse = DuckDBEngine()
    build_city(sqlite_registry, warehouse, settings.home)
    with TestClient(create_app(settings, sqlite_registry, warehouse),
                    base_url="https://testserver") as test_client:
        yield test_client
    warehouse.close()


def test_the_bureau_sees_builds_and_rebuilds_a_std_table_and_a_library(
    client: TestClient,
) -> None:
    login(client, "platform_admin")
    page = client.get(PAGE, headers=HTML)
    assert page.status_code == 200, page.text
    text = page.text
    assert "标准化与基础库" in text and "std.gaj_czrk" in text and "base.person" in text
    assert "重新构建" in text and "成功" in text and "从未构建" in text  # license: never built
    assert text.count("test)") >= 4  # the builds' trigger, shown beside who started them
    rebuilt = client.post(f"{PAGE}/std/gaj_czrk/rebuild", headers=HTML,
                          data={"csrf_token": form_token(text)}, follow_redirects=False)
    assert rebuilt.status_code == 303
    merged = client.post(f"{PAGE}/base/person/rebuild", headers=HTML,
                         data={"csrf_token": form_token(text)}, follow_redirects=True)
    assert merged.status_code == 200 and "platform_admin" in merged.text
    state = client.app.state  # type: ignore[attr-defined]
    with state.registry.session() as session:
        latest = std_build.history(session, limit=2)
        assert [(b.warehouse_table, b.trigger, b.actor) for b in latest] == [
            ("base.person", "page", "platform_admin"), ("std.gaj_czrk", "page", "platform_admin")]
    # Without the CSRF token, refused; a spec that does not exist: the page says why (404).
    assert client.post(f"{PAGE}/std/gaj_czrk/rebuild", headers=HTML).status_code == 403
    missing = client.post(f"{PAGE}/std/nosuch/rebuild", headers=HTML,
                          data={"csrf_token": form_token(text)})
    assert missing.status_code == 400 and "no standardisation spec" in missing.text


def test_a_department_may_read_but_not_rebuild(client: TestClient) -> None:
    login(client, "org_admin")  # 临沂市公安局
    page = client.get(PAGE, headers=HTML)
    assert page.status_code == 200 and "重新构建" not in page.text
    # The police see the conflicts their table takes part in, not ID_C's (water/education).
    assert ID_A[:17] in page.text and ID_B[:17] in page.text and ID_C[:17] not in page.text
    refused = client.post(f"{PAGE}/std/gaj_czrk/rebuild", headers=HTML,
                          data={"csrf_token": form_token(page.text)})
    assert refused.status_code == 403


def test_conflicts_filter_page_and_link_to_their_issues(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    with state.registry.session() as session:  # the water company's rule on its address
        quality.create_rule(session, "std.swjt_yhda", RuleIn(
            kind="consistency", columns=["zjhm", "ysdz"],
            params={"table": "base.person", "key": "id_number", "column": "address"}),
            actor="t", admin=True)
    quality.run_table(state.registry, state.warehouse, "std.swjt_yhda")
    with state.registry.session() as session:
        (address_issue,) = issues.list_issues(session, table="std.swjt_yhda")
        issues.sync_conflicts(session, state.warehouse)  # the library's own issues
        mobile = {i.subject: i.id for i in issues.list_issues(session, table="base.person")}
    login(client, "platform_admin")
    everything = client.get(PAGE, headers=HTML).text
    assert f'href="/quality/issues/{address_issue.id}"' not in everything  # library's own wins
    assert f'href="/quality/issues/{mobile["baselib:person.mobile:std.gaj_czrk"]}"' in everything
    water = client.get(PAGE, params={"department": "371300_swjt", "field": "address"},
                       headers=HTML).text
    assert ID_A[:17] in water and ID_B[:17] not in water and ID_C[:17] not in water
    education = client.get(PAGE, params={"department": "371300_jyj"}, headers=HTML).text
    assert ID_C[:17] in education and ID_A[:17] not in education
    # Paging: 50 a page; page numbers past the end show the last page.
    assert "下一页" not in everything
    assert client.get(PAGE, params={"page": 9}, headers=HTML).status_code == 200
    assert client.get(PAGE, params={"field": "colour"}, headers=HTML).status_code == 400
    assert client.get(PAGE, params={"department": "nosuch"}, headers=HTML).status_code == 400


def test_the_governance_dashboard_and_the_menu_link_the_page(client: TestClient) -> None:
    login(client, "platform_admin")
    dashboard = client.get("/governance", headers=HTML).text
    assert f'href="{PAGE}"' in dashboard
    assert dashboard.count(f'href="{PAGE}"') >= 2  # in the page and in the menu
