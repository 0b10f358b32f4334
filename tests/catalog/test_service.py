"""Entries through the service functions: classification, resource codes, lifecycle, refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datapolis.catalog import service
from datapolis.catalog.enums import LABELS, VOCABULARIES, EntryStatus
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.models import CatalogEntry, EntryVersion
from datapolis.catalog.schemas import EntryUpdate, ItemInput
from datapolis.catalog.versions import Actor, list_versions
from datapolis.errors import Conflict, UserError
from datapolis.orgs.models import Role
from tests.catalog.conftest import Seeded, create, population_entry

REVIEWER = Actor("platform_admin")


def test_every_code_has_one_label_and_codes_are_unique_across_vocabularies() -> None:
    members = [member for vocabulary in VOCABULARIES for member in vocabulary]
    assert len({str(m) for m in members}) == len(members)
    assert set(LABELS) == set(members)


def test_resource_codes_follow_the_classification_with_a_sequence(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        first = create(session)
        second = create(session, name="户籍人口信息")
        theme = create(session, name="企业开办", catalog_type="theme", subject="07",
                       heading="012", subheading="003")
        department = create(session, name="警情数据", catalog_type="department", subject="12",
                            heading="001")
    assert (first, second) == ("101001/000001", "101001/000002")
    assert theme == "207012003/000001"
    assert department == "312001/000001"


@pytest.mark.parametrize(("changes", "message"), [
    ({"subject": "02"}, "basic_population entries have 项 01, not 02"),
    ({"heading": "1"}, "目 '1' must be three digits"),
    ({"heading": "000"}, "目 '000' must be three digits"),
    ({"catalog_type": "theme"}, "theme entries need a 项"),
    ({"catalog_type": "theme", "subject": "7"}, "项 '7' must be two digits"),
    ({"subheading": "01"}, "细目 '01' must be three digits"),
    ({"resource_code": "101002/000001"}, "does not start with its classification 101001"),
    ({"resource_code": "101001-1"}, "must read <classification>/<6 digits>"),
    ({"related_codes": ["999999/000001"]}, "unknown related resource code(s): 999999/000001"),
    ({"items": [ItemInput(name="姓名", element_code="DE9999")]}, "unknown data element code"),
    ({"items": [ItemInput(name="姓名"), ItemInput(name="姓名")]}, "'姓名' appears twice"),
    ({"warehouse_table": "ODS.x y"}, "must read schema.table"),
])
def test_invalid_entries_are_refused_and_nothing_is_written(
    seeded: Seeded, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=None) as refused, seeded.registry.session() as session:
        create(session, **changes)
    assert message in str(refused.value)
    assert refused.value.status_code == 400
    with seeded.registry.session() as session:
        assert session.scalar(select(func.count()).select_from(CatalogEntry)) == 0
        assert session.scalar(select(func.count()).select_from(EntryVersion)) == 0


def test_a_given_resource_code_is_kept_and_a_duplicate_is_a_conflict(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        assert create(session, resource_code="101001/000042") == "101001/000042"
        assert create(session) == "101001/000043"  # numbering continues after it
    with pytest.raises(Conflict, match=r"101001/000042 is already taken"), \
            seeded.registry.session() as session:
        create(session, resource_code="101001/000042")


def test_the_whole_lifecycle_with_versions(seeded: Seeded) -> None:
    editor = Actor("org_user", seeded.users[Role.ORG_USER].id)
    with seeded.registry.session() as session:
        code = create(session)
        entry = service.get_entry(session, code)
        for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH, Action.RETIRE,
                       Action.REOPEN):
            service.transition(session, entry=entry, action=action,
                               actor=editor if action is Action.SUBMIT else REVIEWER)
        assert entry.status is EntryStatus.DRAFT
        assert entry.publish_date is not None
        history = [(v.number, v.action, v.status.value, v.actor)
                   for v in list_versions(session, entry)]
    assert history == [
        (1, "created", "draft", "org_user"), (2, "submitted", "submitted", "org_user"),
        (3, "approved", "approved", "platform_admin"),
        (4, "published", "published", "platform_admin"),
        (5, "retired", "retired", "platform_admin"), (6, "reopened", "draft", "platform_admin"),
    ]


@pytest.mark.parametrize(("path", "action", "message"), [
    ([], Action.APPROVE, "cannot approve entry 101001/000001: it is draft"),
    ([], Action.PUBLISH, "it is draft, and only approved entries can be"),
    ([Action.SUBMIT], Action.SUBMIT, "cannot submit"),
    ([Action.SUBMIT, Action.APPROVE, Action.PUBLISH], Action.REOPEN, "it is published"),
])
def test_illegal_transitions_are_conflicts(
    seeded: Seeded, path: list[Action], action: Action, message: str
) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session))
        for step in path:
            service.transition(session, entry=entry, action=step, actor=REVIEWER)
        versions = len(list_versions(session, entry))
        with pytest.raises(Conflict, match=message):
            service.transition(session, entry=entry, action=action, actor=REVIEWER)
        assert len(list_versions(session, entry)) == versions


def test_rejection_needs_a_comment_and_reopens_editing(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session))
        service.transition(session, entry=entry, action=Action.SUBMIT, actor=REVIEWER)
        with pytest.raises(UserError, match="reject needs a comment"):
            service.transition(session, entry=entry, action=Action.REJECT, actor=REVIEWER,
                               comment="  ")
        service.transition(session, entry=entry, action=Action.REJECT, actor=REVIEWER,
                           comment="缺少开放条件说明")
        assert entry.status is EntryStatus.REJECTED
        service.update_entry(session, entry=entry, data=EntryUpdate.model_validate(
            population_entry(summary="补充说明").model_dump(include=set(EntryUpdate.model_fields))
        ), actor=Actor("org_user"))
        assert entry.status is EntryStatus.DRAFT
        assert list_versions(session, entry)[2].comment == "缺少开放条件说明"


def test_a_published_entry_cannot_be_edited(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session))
        for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
            service.transition(session, entry=entry, action=action, actor=REVIEWER)
        with pytest.raises(Conflict, match="is published: retire it and reopen it"):
            service.update_entry(session, entry=entry, data=EntryUpdate(name="改名"),
                                 actor=REVIEWER)
        with pytest.raises(Conflict, match="is published"):
            service.confirm_mapping(session, entry=entry, item_name="姓名",
                                    element_code="DE0002", actor=REVIEWER)
    with seeded.registry.session() as session:
        assert service.get_entry(session, "101001/000001").name == "常住人口基本信息"


def test_an_incomplete_draft_cannot_be_submitted(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(
            session, summary="", items=[], share_conditions=None, classified=True,
            open_to_public=True,
        ))
        with pytest.raises(UserError) as refused:
            service.transition(session, entry=entry, action=Action.SUBMIT, actor=REVIEWER)
    message = str(refused.value)
    for problem in ("a summary is required", "at least one information item",
                    "conditional sharing needs its conditions", "classified (涉密)"):
        assert problem in message


def test_confirming_a_mapping_records_who_and_when(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session))
        item = service.confirm_mapping(session, entry=entry, item_name="性别",
                                       element_code="DE0003", actor=Actor("org_user", 3))
        assert (item.mapped_by, item.mapped_by_id) == ("org_user", 3)
        assert item.mapped_at is not None and item.element is not None
        last = list_versions(session, entry)[-1]
        assert (last.action, last.comment) == ("mapped", "性别 → DE0003")
        with pytest.raises(UserError, match="unknown data element code 'DE0999'"):
            service.confirm_mapping(session, entry=entry, item_name="性别",
                                    element_code="DE0999", actor=REVIEWER)


def test_an_edit_that_changes_nothing_makes_no_version(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session))
        same = EntryUpdate.model_validate(
            population_entry().model_dump(include=set(EntryUpdate.model_fields))
        )
        service.update_entry(session, entry=entry, data=same, actor=REVIEWER)
        assert len(list_versions(session, entry)) == 1
        assert entry.items[0].mapped_by == "org_user"  # the unchanged mapping keeps its author
