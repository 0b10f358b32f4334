"""The data highway pages: who sees which sources and jobs, and a job's history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from datapolis.ingest import jobs, service
from datapolis.ingest.scheduler import Scheduler
from datapolis.orgs.deps import CSRF_HEADER
from datapolis.orgs.service import get_organisation
from tests.web.forms import HTML, chart_option, login, session_csrf


def htmx(client: TestClient) -> dict[str, str]:
    return {**HTML, "HX-Request": "true", CSRF_HEADER: session_csrf(client)}


def run_context(client: TestClient, tmp_path: Path) -> jobs.RunContext:
    state = client.app.state  # type: ignore[attr-defined]
    return jobs.RunContext(registry=state.registry, warehouse=state.warehouse,
                           keyring=service.secrets_keyring(state.settings),
                           lock_dir=tmp_path / "locks")


def add_job(client: TestClient, tmp_path: Path, org_code: str, code: str) -> None:
    data = tmp_path / f"{code}.sqlite"
    with sqlite3.connect(data) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        db.execute("INSERT INTO t VALUES (1, 1)")
    registry = client.app.state.registry  # type: ignore[attr-defined]
    settings = client.app.state.settings  # type: ignore[attr-defined]
    keyring = service.secrets_keyring(settings)
    with registry.session() as session:
        source = service.add_source(session, keyring=keyring, org=get_organisation(
            session, org_code), code=code, name=f"{code} 系统", kind="sqlite",
            options={"path": str(data)})
        (table,) = service.choose_tables(session, source=source, keyring=keyring, names=["t"])
        table.target_table = f"ods_{org_code}.{code}"
        jobs.create_job(session, table=table, mode="incremental", code=code, cursor_column="v")
    jobs.run_job(run_context(client, tmp_path), code)


def test_highway_lists_what_the_caller_may_see(client: TestClient, tmp_path: Path) -> None:
    add_job(client, tmp_path, "371300_gaj", "city_src")
    add_job(client, tmp_path, "371302_gaj", "county_src")
    login(client, "platform_admin")
    page = client.get("/highway", headers=HTML).text
    assert "city_src 系统" in page and "county_src 系统" in page and "数据高速通道" in page
    login(client, "org_admin")  # of 371300_gaj: not the county's department
    page = client.get("/highway", headers=HTML).text
    assert "city_src 系统" in page and "county_src 系统" not in page
    assert client.get("/highway/jobs/county_src", headers=HTML).status_code == 404
    job = client.get("/highway/jobs/city_src", headers=HTML)
    assert job.status_code == 200
    assert "运行记录" in job.text and "成功" in job.text and 'id="rows-chart"' in job.text
    login(client, "org_user")
    assert client.get("/highway", headers=HTML).status_code == 403


def test_the_menu_shows_the_highway_to_who_may_open_it(client: TestClient) -> None:
    login(client, "org_admin")
    assert 'href="/highway"' in client.get("/", headers=HTML).text
    login(client, "org_user")
    assert 'href="/highway"' not in client.get("/", headers=HTML).text


def test_the_live_parts_refresh_and_keep_to_the_callers_departments(
    client: TestClient, tmp_path: Path
) -> None:
    add_job(client, tmp_path, "371300_gaj", "city_src")
    add_job(client, tmp_path, "371302_gaj", "county_src")
    login(client, "org_admin")
    page = client.get("/highway", headers=HTML).text
    assert 'hx-get="/highway/live"' in page and 'hx-trigger="every 5s"' in page
    assert 'id="minute-rows-chart"' in page and "近一小时每分钟入库行数" in page

    live = client.get("/highway/live", headers=HTML)
    assert live.status_code == 200 and live.headers["cache-control"] == "no-store"
    assert "<html" not in live.text and 'id="highway-live"' in live.text
    assert "city_src" in live.text and "county_src" not in live.text
    # The caller's one run landed one row a moment ago: the hour's bars add up to it.
    option = chart_option(live.text, "minute-rows-chart")
    assert sum(option["series"][0]["data"]) == 1 and option["animation"] is False

    job = client.get("/highway/jobs/city_src/live", headers=HTML)
    assert job.status_code == 200 and "<html" not in job.text and "成功" in job.text
    assert client.get("/highway/jobs/county_src/live", headers=HTML).status_code == 404
    login(client, "org_user")
    assert client.get("/highway/live", headers=HTML).status_code == 403


def test_run_now_starts_a_batch_job_on_the_scheduler(
    client: TestClient, tmp_path: Path
) -> None:
    add_job(client, tmp_path, "371300_gaj", "city_src")
    add_job(client, tmp_path, "371302_gaj", "county_src")
    login(client, "org_admin")
    page = client.get("/highway/jobs/city_src", headers=HTML).text
    assert 'hx-post="/highway/jobs/city_src/run"' in page and "立即运行" in page
    app = client.app
    scheduler = Scheduler(run_context(client, tmp_path))
    app.state.scheduler = scheduler  # type: ignore[attr-defined]
    try:
        started = client.post("/highway/jobs/city_src/run", headers=htmx(client))
        assert started.status_code == 200 and "已开始" in started.text
        scheduler.wait_idle()
    finally:
        scheduler.stop()
    with app.state.registry.session() as session:  # type: ignore[attr-defined]
        runs = jobs.get_job(session, "city_src").runs
        assert [run.status for run in runs] == ["succeeded", "succeeded"]
    # Another county's job is neither shown nor started; without the permission, 403.
    assert client.post("/highway/jobs/county_src/run", headers=htmx(client)).status_code == 404
    login(client, "auditor")
    assert 'hx-post="/highway/jobs/city_src/run"' not in client.get(
        "/highway/jobs/city_src", headers=HTML).text
    assert client.post("/highway/jobs/city_src/run", headers=htmx(client)).status_code == 403


def test_run_now_says_why_it_cannot(client: TestClient, tmp_path: Path) -> None:
    add_job(client, tmp_path, "371300_gaj", "city_src")
    login(client, "platform_admin")
    client.app.state.scheduler = None  # type: ignore[attr-defined]
    refused = client.post("/highway/jobs/city_src/run", headers=htmx(client))
    assert refused.status_code == 200 and "datapolis sync run" in refused.text
    plain = client.post("/highway/jobs/city_src/run", headers=HTML,
                        data={"csrf_token": session_csrf(client)})
    assert plain.status_code == 400
