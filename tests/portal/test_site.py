"""The public site through HTTP: home, search with facets, dataset pages, downloads in four
formats (streamed, through the public de-identification), organisation pages, usage counts."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from datapolis.config import Settings
from datapolis.portal import stats, usage
from datapolis.portal.datasets import slug_of
from datapolis.web.app import create_app
from tests.conftest import TEST_SECRET_KEY
from tests.portal.conftest import Portal


@pytest.fixture
def site(portal: Portal, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                        scheduler=False, sharing_monitor_seconds=0)
    stats.forget_headline()
    app = create_app(settings, portal.registry, portal.engine)
    with TestClient(app) as client:
        yield client


def test_home_shows_headline_numbers_in_chinese(site: TestClient, portal: Portal) -> None:
    page = site.get("/open")
    assert page.status_code == 200
    assert "公共数据开放网" in page.text and "数据集" in page.text
    # Two open datasets, one providing organisation, 3 live rows (the soft-deleted one is
    # not counted), one API.
    numbers = re.findall(r'<span class="stat-value">([^<]+)</span>', page.text)
    assert numbers == ["2", "1", "3", "1", "0"]
    assert "公交线路信息" in page.text and "企业投资人出资统计" in page.text
    site.cookies.set("datapolis_lang", "en")
    english = site.get("/open")
    assert "Open public data for everyone" in english.text


def test_search_in_chinese_with_facets(site: TestClient, portal: Portal) -> None:
    page = site.get("/open/datasets", params={"q": "公交"})
    assert page.status_code == 200
    assert "公交线路信息" in page.text
    assert "公交站点信息" not in page.text and "公交驾驶员信息" not in page.text
    assert "企业投资人出资统计" not in page.text
    both = site.get("/open/datasets")
    assert "公交线路信息" in both.text and "企业投资人出资统计" in both.text
    only = site.get("/open/datasets", params={"open_kind": "conditional"})
    assert "企业投资人出资统计" in only.text and "公交线路信息" not in only.text
    assert site.get("/open/datasets", params={"status": "draft"}).status_code == 200  # ignored


def test_dataset_page_has_metadata_preview_charts_and_api(site: TestClient,
                                                          portal: Portal) -> None:
    slug = slug_of(portal.codes["open"])
    page = site.get(f"/dataset/{slug}")
    assert page.status_code == 200
    text = page.text
    for part in ("线路名称", "首末站", "1路", "K3路", "知识共享署名 4.0", "download.csv",
                 "download.xlsx", "download.json", "download.parquet", "/open/v1/datasets/",
                 "每月", "日均客流"):
        assert part in text, part
    assert "371302199001011234" not in text  # the ID number is masked or withheld
    assert "停运线" not in text  # the soft-deleted row is not shown
    assert 'class="chart"' in text  # 日均客流 histogram
    more = site.get(f"/dataset/{slug}/preview", params={"rows": 50})
    assert more.status_code == 200 and "K3路" in more.text
    for hidden in ("unpublished", "closed"):
        assert site.get(f"/dataset/{slug_of(portal.codes[hidden])}").status_code == 404
        assert site.get(
            f"/dataset/{slug_of(portal.codes[hidden])}/download.csv").status_code == 404


def test_downloads_in_four_formats(site: TestClient, portal: Portal) -> None:
    slug = slug_of(portal.codes["open"])
    got = site.get(f"/dataset/{slug}/download.csv")
    assert got.status_code == 200
    assert got.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["线路名称", "首末站"]
    assert sorted(r[0] for r in rows[1:]) == ["1路", "2路", "K3路"]
    assert "371302199001011234" not in got.text and "夜班" not in got.text  # masked, withheld

    data = json.loads(site.get(f"/dataset/{slug}/download.json").content)
    assert sorted(r["xlmc"] for r in data) == ["1路", "2路", "K3路"]
    assert all("bz" not in r for r in data)

    table = pq.read_table(io.BytesIO(site.get(f"/dataset/{slug}/download.parquet").content))
    assert table.num_rows == 3 and "xlmc" in table.column_names

    book = load_workbook(io.BytesIO(site.get(f"/dataset/{slug}/download.xlsx").content),
                         read_only=True)
    sheet_rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert sheet_rows[0][0] == "线路名称" and len(sheet_rows) == 4

    assert site.get(f"/dataset/{slug}/download.exe").status_code == 404
    site.app.state.portal_usage.flush()  # type: ignore[attr-defined]
    with portal.registry.session() as session:
        counts = usage.by_dataset(session)[portal.codes["open"]]
    assert counts["download"] == 4


def test_conditional_dataset_refuses_rows_without_an_approved_application(
        site: TestClient, portal: Portal) -> None:
    slug = slug_of(portal.codes["conditional"])
    page = site.get(f"/dataset/{slug}")
    assert page.status_code == 200 and "有条件开放" in page.text and "登录后申请" in page.text
    assert site.get(f"/dataset/{slug}/download.csv").status_code in (403, 404)
    assert site.get(f"/dataset/{slug}/preview").status_code == 403


def test_organisation_pages(site: TestClient, portal: Portal) -> None:
    listing = site.get("/organization")
    assert listing.status_code == 200
    page = site.get("/organization/371300_gaj")
    assert page.status_code == 200 and "公交线路信息" in page.text
    assert site.get("/organization/nobody").status_code == 404
    assert site.get("/theme/transport", follow_redirects=False).status_code == 303
    assert site.get("/licence/conditional-use").status_code == 200
