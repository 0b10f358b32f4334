"""Diffs between entry versions: fields old -> new, items added / removed / changed."""

from __future__ import annotations

from typing import Any

from datapolis.catalog import service
from datapolis.catalog.schemas import EntryUpdate, ItemInput
from datapolis.catalog.versions import Actor, diff_snapshots, diff_versions
from tests.catalog.conftest import Seeded, create, population_entry


def snapshot(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "常住人口", "share_type": "conditional", "tags": ["人口"],
        "items": [
            {"name": "姓名", "data_type": "string", "length": 30, "element": None},
            {"name": "性别", "data_type": "string", "length": 1, "element": None},
        ],
    }
    return base | changes


def test_identical_snapshots_have_no_diff() -> None:
    assert diff_snapshots(snapshot(), snapshot()).empty


def test_field_and_item_changes_are_reported() -> None:
    new = snapshot(name="户籍人口", tags=["人口", "户籍"], items=[
        {"name": "姓名", "data_type": "string", "length": 50, "element": "DE0002"},
        {"name": "出生日期", "data_type": "date", "length": None, "element": "DE0005"},
    ])
    diff = diff_snapshots(snapshot(), new, from_version=1, to_version=2)
    assert [(c.field, c.old, c.new) for c in diff.fields] == [
        ("name", "常住人口", "户籍人口"), ("tags", ["人口"], ["人口", "户籍"])]
    changes = {i.name: (i.change, [(c.field, c.old, c.new) for c in i.fields])
               for i in diff.items}
    assert changes == {
        "姓名": ("changed", [("length", 30, 50), ("element", None, "DE0002")]),
        "出生日期": ("added", [("data_type", None, "date"), ("element", None, "DE0005")]),
        "性别": ("removed", []),
    }
    assert "name: '常住人口' → '户籍人口'" in diff.lines()
    assert "item 性别: removed" in diff.lines()


def test_reordered_items_are_a_change() -> None:
    items = snapshot()["items"]
    diff = diff_snapshots(snapshot(), snapshot(items=list(reversed(items))))
    assert [(c.field, c.new) for c in diff.fields] == [("item_order", ["性别", "姓名"])]


def test_any_two_stored_versions_can_be_compared(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session))
        base = population_entry().model_dump(include=set(EntryUpdate.model_fields))
        for name in ("户籍人口信息", "常住人口信息"):
            data = EntryUpdate.model_validate(base | {"name": name, "items": [
                *base["items"], ItemInput(name="民族", element_code="DE0004").model_dump()]})
            service.update_entry(session, entry=entry, data=data, actor=Actor("org_user"))
        one_to_three = diff_versions(session, entry, 1, 3)
        three_to_one = diff_versions(session, entry, 3, 1)
    assert [(c.field, c.old, c.new) for c in one_to_three.fields] == [
        ("name", "常住人口基本信息", "常住人口信息")]
    assert [(i.name, i.change) for i in one_to_three.items] == [("民族", "added")]
    assert [(i.name, i.change) for i in three_to_one.items] == [("民族", "removed")]
