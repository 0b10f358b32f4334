"""Searching from the catalog's entry list page: hits with marked words, facets as links."""

from __future__ import annotations

from fastapi.testclient import TestClient
from web.forms import HTML

from tests.catalog.test_api import create
from tests.catalog.test_bureau_http import published
from tests.catalog.test_pages import sign_in


def test_the_entry_list_searches_in_chinese_with_facets(seeded_client: TestClient) -> None:
    client = seeded_client
    population = published(client, tags=["户籍"])
    published(client, name="机动车登记信息", catalog_type="department", subject="12",
              heading="004", summary="全市机动车的登记与年检信息", share_type="unconditional",
              share_conditions=None)
    draft = create(client, name="户籍迁移信息", summary="户口迁入迁出登记")
    sign_in(client, "auditor")  # at the city: sees every entry of the organisations below it
    page = client.get("/catalog", headers=HTML)
    assert 'type="search" name="q"' in page.text and "搜索" in page.text
    found = client.get("/catalog?q=户籍 人口", headers=HTML).text
    assert "搜索结果" in found and "<mark>人口</mark>" in found
    assert population in found and draft not in found and "机动车" not in found  # not 人口
    every = client.get("/catalog?q=信息", headers=HTML).text
    assert "机动车登记<mark>信息</mark>" in every and "常住人口基本<mark>信息</mark>" in every
    # Facets: counts for each share type; the link narrows the search, and its own counts stay.
    assert "有条件共享</a> <span class=\"count\">2</span>" in every  # with the draft
    assert "无条件共享</a> <span class=\"count\">1</span>" in every
    narrowed = client.get("/catalog?q=信息&share_type=unconditional", headers=HTML).text
    hits = narrowed.split("搜索结果")[1]
    assert "机动车登记" in hits and "常住人口" not in hits
    assert 'aria-current="true" class="facet-selected">无条件共享' in narrowed
    assert draft in client.get("/catalog?q=户籍", headers=HTML).text
    assert "未定级" in every  # the grade facet of entries without graded items
    too_long = client.get("/catalog?q=" + "户" * 201, headers=HTML)
    assert too_long.status_code == 200 and "at most 200" in too_long.text
