"""GET /api/catalog/search through the real app with real tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datapolis.orgs.models import Role
from tests.catalog.test_api import call, create


def test_search_finds_marks_and_counts_drafts_for_their_organisations(
    seeded_client: TestClient,
) -> None:
    client = seeded_client
    draft = create(client, name="低保人员名单", summary="民政<低保>对象", catalog_type="department",
                   subject="05", tags=["低保"])
    own = call(client, Role.ORG_USER, "GET", "/api/catalog/search",
               params={"q": "低保 名单", "share_type": ["conditional", "unconditional"]})
    assert own.status_code == 200, own.text
    body = own.json()
    assert body["total"] == 1 and body["words"] == ["低保", "名单"]
    hit = body["hits"][0]
    assert hit["entry"]["resource_code"] == draft
    assert hit["name_html"] == "<mark>低保</mark>人员<mark>名单</mark>"
    assert hit["summary_html"] == "民政&lt;<mark>低保</mark>&gt;对象"
    shares = {v["value"]: (v["count"], v["selected"]) for v in body["facets"]["share_type"]}
    assert shares == {"conditional": (1, True), "unconditional": (0, True)}
    # The auditor's organisation (the city) is above the provider: it sees the draft too
    # (catalog/access.py); drafts of other trees are hidden (test_service.py).
    above = call(client, Role.AUDITOR, "GET", "/api/catalog/search", params={"q": "低保"})
    assert above.status_code == 200 and above.json()["total"] == 1
    reviewer = call(client, Role.PLATFORM_ADMIN, "GET", "/api/catalog/search",
                    params={"q": "低保", "status": "draft"})
    assert reviewer.json()["total"] == 1


def test_bad_search_requests_are_4xx_with_a_message(seeded_client: TestClient) -> None:
    client = seeded_client
    long = call(client, Role.ORG_USER, "GET", "/api/catalog/search", params={"q": "户" * 300})
    assert long.status_code == 400 and "at most 200" in long.text
    deep = call(client, Role.ORG_USER, "GET", "/api/catalog/search", params={"page": 9_999})
    assert deep.status_code == 400 and "paged up to" in deep.text
    big = call(client, Role.ORG_USER, "GET", "/api/catalog/search", params={"size": 500})
    assert big.status_code == 422
    assert client.get("/api/catalog/search").status_code == 401
