"""Field grades: suggest, confirm or change, and read them back (per entry, per organisation).

Each catalog item gets a suggestion from `datapolis.security.classify.suggest` (kind, grade,
confidence, reasons) over its column name, its Chinese name and description, and sample
values; a person then confirms it or picks another grade. Only confirmed grades count for the
de-identification policy; the entry's grade is its highest field grade. Every decision is
appended to the audit log (`grade.confirmed` when the suggestion stands, `grade.changed` when a
person chose another grade) and stays on the field with who and when. The confirmed grade is
also written to the catalog item's security grade (through the catalog's service), so the
catalog's rules, facets and previews speak the same grade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.models import CatalogEntry, InfoItem
from datapolis.catalog.versions import Actor
from datapolis.errors import NotFound
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.security.classify import Suggestion, suggest
from datapolis.security.grades import highest, require_grade
from datapolis.security.grading import scheme
from datapolis.security.grading.models import EntryCategory, FieldGrade


@dataclass(frozen=True)
class GradedField:
    """What the de-identification policy reads of an item (see deid/policy.py `Item`)."""

    name: str
    column_name: str | None
    confirmed_grade: str | None


@dataclass(frozen=True)
class ItemGrading:
    item: InfoItem
    suggestion: Suggestion  # stored, or worked out now for an item not yet suggested
    stored: FieldGrade | None

    @property
    def grade(self) -> str | None:
        return self.stored.grade if self.stored is not None else None

    @property
    def confirmed(self) -> bool:
        return self.grade is not None


@dataclass(frozen=True)
class EntryGrading:
    entry: CatalogEntry
    items: list[ItemGrading]
    category: EntryCategory | None

    @property
    def unconfirmed(self) -> int:
        return sum(1 for i in self.items if not i.confirmed)

    @property
    def grade(self) -> str | None:
        """The table's grade: its highest confirmed field grade (None: none confirmed)."""
        return highest(i.grade for i in self.items)

    @property
    def provisional_grade(self) -> str | None:
        """The highest of the confirmed grades and, where none, the suggestions."""
        return highest(i.grade or i.suggestion.grade for i in self.items)


def _suggest_item(item: InfoItem, samples: Sequence[object]) -> Suggestion:
    comment = " ".join(part for part in (item.name, item.description) if part)
    return suggest(item.column_name or item.name, comment, samples)


def _stored(session: Session, entry: CatalogEntry) -> dict[int, FieldGrade]:
    rows = session.scalars(select(FieldGrade).where(FieldGrade.entry_id == entry.id))
    return {row.item_id: row for row in rows}


def _store_suggestion(record: FieldGrade, found: Suggestion) -> None:
    record.suggested_kind, record.suggested_grade = found.kind, found.grade
    record.confidence = round(found.confidence, 3)
    record.reasons = list(found.reasons)
    record.suggested_at = utcnow()


def suggest_for_entry(session: Session, entry: CatalogEntry,
                      samples: Mapping[str, Sequence[object]] | None = None) -> int:
    """Store suggestions for the entry's items that have none yet; with `samples` (values per
    column name) also refresh the suggestions of items not yet confirmed. Returns how many
    suggestions were stored."""
    session.flush()  # new items need their ids
    stored = _stored(session, entry)
    samples = samples or {}
    count = 0
    for item in entry.items:
        record = stored.get(item.id)
        values = samples.get(item.column_name or "", ())
        if record is not None and (record.grade is not None or not values):
            continue
        if record is None:
            record = FieldGrade(item_id=item.id, entry_id=entry.id)
            session.add(record)
        _store_suggestion(record, _suggest_item(item, values))
        count += 1
    session.flush()
    return count


def entry_grading(session: Session, entry: CatalogEntry) -> EntryGrading:
    """Every item with its suggestion and confirmed grade; reading stores nothing."""
    stored = _stored(session, entry)
    items = []
    for item in entry.items:
        record = stored.get(item.id)
        found = (Suggestion(record.suggested_kind, record.suggested_grade,  # type: ignore[arg-type]
                            record.confidence, tuple(record.reasons))
                 if record is not None else _suggest_item(item, ()))
        items.append(ItemGrading(item, found, record))
    category = session.scalar(select(EntryCategory).where(EntryCategory.entry_id == entry.id))
    return EntryGrading(entry, items, category)


def graded_fields(session: Session, entry: CatalogEntry) -> list[GradedField]:
    """The entry's items with their confirmed grades: what `deid.view_for` takes."""
    stored = _stored(session, entry)
    return [GradedField(item.name, item.column_name,
                        stored[item.id].grade if item.id in stored else None)
            for item in entry.items]


def confirm(session: Session, entry: CatalogEntry, decisions: Mapping[str, str | None],
            actor: Actor, *, via: str = "api") -> list[str]:
    """Confirm grades by item name: a grade code sets that grade, None takes the suggestion.

    Everything is checked before anything is written: an unknown item or grade refuses the
    whole request. Returns the names of the items whose decision was recorded.
    """
    by_name = {item.name: item for item in entry.items}
    missing = [name for name in decisions if name not in by_name]
    if missing:
        raise NotFound(f"entry {entry.resource_code} has no information item "
                       + "、".join(repr(m) for m in missing))
    chosen = {name: require_grade(grade) if grade is not None else None
              for name, grade in decisions.items()}
    suggest_for_entry(session, entry)
    stored = _stored(session, entry)
    now = utcnow()
    decided: dict[str, str] = {}
    for name, grade in chosen.items():
        record = stored[by_name[name].id]
        final = grade or record.suggested_grade
        kind = "grade.confirmed" if final == record.suggested_grade else "grade.changed"
        audit.record(session, kind=kind, actor=actor.name, org=entry.provider.code, details={
            "entry": entry.resource_code, "item": name, "column": by_name[name].column_name,
            "grade": final, "before": record.grade, "suggested": record.suggested_grade,
            "suggested_kind": record.suggested_kind, "via": via})
        record.grade, record.confirmed_at = final, now
        record.confirmed_by, record.confirmed_by_id = actor.name, actor.user_id
        decided[name] = final
    session.flush()
    catalog_service.record_grades(session, entry=entry, grades=decided, actor=actor)
    return list(decided)


def confirm_all(session: Session, entry: CatalogEntry, actor: Actor, *,
                via: str = "api") -> list[str]:
    """Confirm the suggestion of every item not confirmed yet."""
    grading = entry_grading(session, entry)
    pending = {i.item.name: None for i in grading.items if not i.confirmed}
    return confirm(session, entry, pending, actor, via=via) if pending else []


def assign_category(session: Session, entry: CatalogEntry, business_code: str,
                    actor: Actor, *, via: str = "api") -> EntryCategory:
    business = scheme.get_business(session, business_code)
    found = session.scalar(select(EntryCategory).where(EntryCategory.entry_id == entry.id))
    before = found.category.code if found is not None else None
    if found is None:
        found = EntryCategory(entry_id=entry.id, category=business)
        session.add(found)
    found.category = business
    found.assigned_by, found.assigned_by_id = actor.name, actor.user_id
    found.assigned_at = utcnow()
    session.flush()
    audit.record(session, kind="grade.category_assigned", actor=actor.name,
                 org=entry.provider.code, details={
                     "entry": entry.resource_code, "category": business.code,
                     "sector": business.parent.code if business.parent else None,
                     "before": before, "via": via})
    return found


# --- what is still to do -------------------------------------------------------------------


def unconfirmed_by_entry(session: Session,
                         entries: Sequence[CatalogEntry]) -> dict[int, int]:
    """Items without a confirmed grade, per entry id (entries with none left are absent)."""
    ids = [entry.id for entry in entries]
    if not ids:
        return {}
    confirmed: dict[int, int] = {entry_id: n for entry_id, n in session.execute(
        select(FieldGrade.entry_id, func.count(FieldGrade.id))
        .where(FieldGrade.entry_id.in_(ids), FieldGrade.grade.is_not(None))
        .group_by(FieldGrade.entry_id))}
    left = {entry.id: len(entry.items) - confirmed.get(entry.id, 0) for entry in entries}
    return {entry_id: n for entry_id, n in left.items() if n > 0}


@dataclass(frozen=True)
class OrgProgress:
    org_code: str
    org_name: str
    entries: int
    items: int
    unconfirmed: int


def progress_by_org(session: Session,
                    provider_ids: set[int] | None = None) -> list[OrgProgress]:
    """Per providing organisation: entries, items and items still unconfirmed."""
    entries = [e for e in catalog_service.list_entries(session, provider_ids=None)
               if provider_ids is None or e.provider_id in provider_ids]
    open_items = unconfirmed_by_entry(session, entries)
    rows: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for entry in entries:
        tally = rows.setdefault(entry.provider.code, [0, 0, 0])
        names[entry.provider.code] = entry.provider.name
        tally[0] += 1
        tally[1] += len(entry.items)
        tally[2] += open_items.get(entry.id, 0)
    return [OrgProgress(code, names[code], *tally) for code, tally in sorted(rows.items())]
