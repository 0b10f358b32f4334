"""Entry versions: a canonical JSON snapshot per change, and the diff between any two.

The snapshot holds every field a person can change plus the status, in a fixed shape, so a
diff is a comparison of two dictionaries: fields old -> new, items added / removed / changed
(items are matched by name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry, EntryVersion
from datapolis.errors import NotFound
from datapolis.registry.base import utcnow

QUIET_ACTIONS = frozenset({"edited", "mapped"})
ITEM_FIELDS = ("column_name", "data_type", "length", "description", "security_grade", "element")


@dataclass(frozen=True)
class Actor:
    """Who made a change: a user (with their row id) or an API app or operator (without)."""

    name: str
    user_id: int | None = None


def snapshot(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "resource_code": entry.resource_code,
        "category": entry.category,
        "subject": entry.subject,
        "heading": entry.heading,
        "subheading": entry.subheading,
        "name": entry.name,
        "provider": entry.provider.code,
        "catalog_type": entry.catalog_type.value,
        "summary": entry.summary,
        "format_class": entry.format_class.value,
        "format_detail": entry.format_detail,
        "share_type": entry.share_type.value,
        "share_conditions": entry.share_conditions,
        "share_methods": list(entry.share_methods),
        "open_to_public": entry.open_to_public,
        "open_conditions": entry.open_conditions,
        "update_cycle": entry.update_cycle.value,
        "publish_date": entry.publish_date.isoformat() if entry.publish_date else None,
        "related_codes": list(entry.related_codes),
        "classified": entry.classified,
        "tags": list(entry.tags),
        "record_count": entry.record_count,
        "storage_bytes": entry.storage_bytes,
        "warehouse_table": entry.warehouse_table,
        "status": entry.status.value,
        "items": [
            {
                "name": item.name,
                "column_name": item.column_name,
                "data_type": item.data_type.value,
                "length": item.length,
                "description": item.description,
                "security_grade": item.security_grade,
                "element": item.element.code if item.element is not None else None,
            }
            for item in entry.items
        ],
    }


def record_version(
    session: Session, *, entry: CatalogEntry, action: str, actor: Actor,
    comment: str | None = None,
) -> EntryVersion:
    session.flush()
    session.refresh(entry, ["items"])
    last = session.scalar(
        select(EntryVersion).where(EntryVersion.entry_id == entry.id)
        .order_by(EntryVersion.number.desc()).limit(1)
    )
    state = snapshot(entry)
    if last is not None and action in QUIET_ACTIONS and last.snapshot == state:
        return last  # an edit that changed nothing is no new version
    version = EntryVersion(
        entry=entry, number=(last.number if last else 0) + 1, action=action,
        status=entry.status, comment=comment, snapshot=state, actor=actor.name,
        actor_id=actor.user_id, created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    return version


def list_versions(session: Session, entry: CatalogEntry) -> list[EntryVersion]:
    return list(session.scalars(
        select(EntryVersion).where(EntryVersion.entry_id == entry.id)
        .order_by(EntryVersion.number)
    ))


def get_version(session: Session, entry: CatalogEntry, number: int) -> EntryVersion:
    version = session.scalar(
        select(EntryVersion).where(EntryVersion.entry_id == entry.id,
                                   EntryVersion.number == number)
    )
    if version is None:
        raise NotFound(f"entry {entry.resource_code} has no version {number}")
    return version


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemChange:
    name: str
    change: str  # added | removed | changed
    fields: list[FieldChange]


@dataclass
class Diff:
    from_version: int
    to_version: int
    fields: list[FieldChange] = field(default_factory=list)
    items: list[ItemChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.fields and not self.items

    def lines(self) -> list[str]:
        """The diff as plain lines, for the CLI and logs."""
        out = [f"{c.field}: {c.old!r} → {c.new!r}" for c in self.fields]
        for item in self.items:
            if item.change == "changed":
                out.extend(f"item {item.name}: {c.field}: {c.old!r} → {c.new!r}"
                           for c in item.fields)
            else:
                out.append(f"item {item.name}: {item.change}")
        return out


def diff_snapshots(
    old: dict[str, Any], new: dict[str, Any], *, from_version: int = 0, to_version: int = 0
) -> Diff:
    result = Diff(from_version, to_version)
    for name in new:
        if name != "items" and old.get(name) != new.get(name):
            result.fields.append(FieldChange(name, old.get(name), new.get(name)))
    old_items = {item["name"]: item for item in old.get("items", [])}
    new_items = {item["name"]: item for item in new.get("items", [])}
    for name, item in new_items.items():
        before = old_items.get(name)
        if before is None:
            result.items.append(ItemChange(name, "added", [
                FieldChange(f, None, item.get(f)) for f in ITEM_FIELDS if item.get(f) is not None
            ]))
            continue
        changes = [FieldChange(f, before.get(f), item.get(f))
                   for f in ITEM_FIELDS if before.get(f) != item.get(f)]
        if changes:
            result.items.append(ItemChange(name, "changed", changes))
    old_order = [i["name"] for i in old.get("items", []) if i["name"] in new_items]
    new_order = [i["name"] for i in new.get("items", []) if i["name"] in old_items]
    if old_order != new_order:
        result.fields.append(FieldChange("item_order", old_order, new_order))
    result.items.extend(ItemChange(name, "removed", []) for name in old_items
                        if name not in new_items)
    return result


def diff_versions(session: Session, entry: CatalogEntry, old: int, new: int) -> Diff:
    return diff_snapshots(
        get_version(session, entry, old).snapshot, get_version(session, entry, new).snapshot,
        from_version=old, to_version=new,
    )
