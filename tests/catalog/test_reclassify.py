"""A draft never published can be classified again; its resource code follows."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from datapolis.catalog import service
from datapolis.catalog.enums import CatalogType, EntryStatus
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.versions import Actor, list_versions
from datapolis.errors import Conflict, UserError
from tests.catalog.conftest import Seeded, create
from tests.web.forms import HTML, login, session_csrf

ACTOR = Actor("org_user")


def test_a_draft_gets_a_new_code_with_its_new_classification(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        old = create(session, catalog_type="department", subject="99", heading="999")
        entry = service.get_entry(session, old)
        service.reclassify(session, entry=entry, catalog_type=CatalogType.DEPARTMENT,
                           subject="12", heading="003", subheading=None, actor=ACTOR)
        new = entry.resource_code
    assert old.startswith("39999") and new == "312003/000001"
    with seeded.registry.session() as session:
        assert session.scalar(select(CatalogEntry).where(
            CatalogEntry.resource_code == old)) is None
        entry = service.get_entry(session, new)
        assert (entry.category, entry.subject, entry.heading) == ("3", "12", "003")
        last = list_versions(session, entry)[-1]
        assert last.action == "reclassified" and last.snapshot["resource_code"] == new


def test_bad_classifications_change_nothing(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        code = create(session, catalog_type="department", subject="99", heading="999")
        entry = service.get_entry(session, code)
        with pytest.raises(UserError, match="目"):
            service.reclassify(session, entry=entry, catalog_type=CatalogType.DEPARTMENT,
                               subject="12", heading="0x3", subheading=None, actor=ACTOR)
        with pytest.raises(UserError, match="项"):  # the basic types fix their subject
            service.reclassify(session, entry=entry,
                               catalog_type=CatalogType.BASIC_POPULATION, subject="07",
                               heading="001", subheading=None, actor=ACTOR)
    with seeded.registry.session() as session:
        assert service.get_entry(session, code).heading == "999"


def test_a_code_once_published_is_permanent(seeded: Seeded) -> None:
    bureau, admin = Actor("platform_admin"), Actor("org_admin")
    with seeded.registry.session() as session:
        code = create(session)
        entry = service.get_entry(session, code)
        for action, actor in [(Action.SUBMIT, admin), (Action.APPROVE, bureau),
                              (Action.PUBLISH, bureau), (Action.RETIRE, bureau),
                              (Action.REOPEN, admin)]:
            service.transition(session, entry=entry, action=action, actor=actor,
                               comment="ok")
        assert entry.status == EntryStatus.DRAFT
        with pytest.raises(Conflict, match="permanent"):
            service.reclassify(session, entry=entry, catalog_type=entry.catalog_type,
                               subject=entry.subject, heading="002", subheading=None,
                               actor=ACTOR)


def test_the_entry_page_classifies_a_draft(seeded_client: TestClient) -> None:
    app = seeded_client.app
    with app.state.registry.session() as session:  # type: ignore[attr-defined]
        code = create(session, catalog_type="department", subject="99", heading="999")
    login(seeded_client, "org_user")
    page = seeded_client.get(f"/catalog/entries/{code}", headers=HTML).text
    assert f'action="/catalog/entries/{code}/reclassify"' in page
    moved = seeded_client.post(f"/catalog/entries/{code}/reclassify", headers=HTML, data={
        "csrf_token": session_csrf(seeded_client), "catalog_type": "department",
        "subject": "12", "heading": "003", "subheading": ""}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"].endswith("/312003/000001")
    refused = seeded_client.post("/catalog/entries/312003/000001/reclassify", headers=HTML, data={
        "csrf_token": session_csrf(seeded_client), "catalog_type": "department",
        "subject": "12", "heading": "abc"})
    assert refused.status_code == 400 and "目" in refused.text


def test_the_api_classifies_a_draft(seeded_client: TestClient) -> None:
    from conftest import bearer_for

    from datapolis.orgs.models import Role

    app = seeded_client.app
    with app.state.registry.session() as session:  # type: ignore[attr-defined]
        code = create(session, catalog_type="department", subject="99", heading="999")
    headers = bearer_for(seeded_client, Role.ORG_USER)
    answer = seeded_client.post(f"/api/catalog/entries/{code}/reclassify", headers=headers,
                                json={"catalog_type": "department", "subject": "12",
                                      "heading": "003"})
    assert answer.status_code == 200 and answer.json()["resource_code"] == "312003/000001"
    assert seeded_client.get(f"/api/catalog/entries/{code}", headers=headers).status_code == 404
