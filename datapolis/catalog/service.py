"""Service functions of the catalog: entries, their items, the lifecycle and item mappings.

Every function validates everything before it writes, and every change records a version,
so a refused request leaves nothing behind and every accepted one can be diffed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

# Imported for its effect: every session that changes entries keeps their search tokens
# current, in the CLI and workers as much as in the web app.
import datapolis.catalog.search  # noqa: F401
from datapolis.catalog.enums import CLASS_OF, CatalogType, EntryStatus, ShareType
from datapolis.catalog.lifecycle import EDITABLE, PAST_TENSE, TRANSITIONS, Action
from datapolis.catalog.models import CatalogEntry, DataElement, EntryVersion, InfoItem
from datapolis.catalog.rules.checks import check_publishable
from datapolis.catalog.schemas import EntryCreate, EntryUpdate, ItemInput
from datapolis.catalog.versions import Actor, record_version
from datapolis.errors import Conflict, NotFound, UserError
from datapolis.orgs.models import Organisation
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.web.render import SHOWN_ZONE

RESOURCE_CODE = re.compile(r"^(\d{6}(?:\d{3})?)/(\d{6})$")
WAREHOUSE_TABLE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


# --- classification and resource codes ----------------------------------------------------


def classify(
    catalog_type: CatalogType, subject: str | None, heading: str, subheading: str | None
) -> tuple[str, str, str, str | None]:
    """(类, 项, 目, 细目) for an entry of `catalog_type`, or a UserError saying what is wrong."""
    category, fixed_subject = CLASS_OF[catalog_type]
    subject = subject or fixed_subject
    if subject is None:
        raise UserError(f"classification: {catalog_type.value} entries need a 项 (2 digits)")
    if not re.fullmatch(r"\d{2}", subject) or subject == "00":
        raise UserError(f"classification: 项 {subject!r} must be two digits from 01 to 99")
    if fixed_subject is not None and subject != fixed_subject:
        raise UserError(
            f"classification: {catalog_type.value} entries have 项 {fixed_subject}, "
            f"not {subject}"
        )
    if not re.fullmatch(r"\d{3}", heading) or heading == "000":
        raise UserError(f"classification: 目 {heading!r} must be three digits from 001 to 999")
    if subheading is not None and (
        not re.fullmatch(r"\d{3}", subheading) or subheading == "000"
    ):
        raise UserError(f"classification: 细目 {subheading!r} must be three digits or empty")
    return category, subject, heading, subheading


def _next_sequence(session: Session, prefix: str) -> int:
    last = session.scalar(
        select(func.max(CatalogEntry.sequence)).where(CatalogEntry.prefix == prefix)
    )
    return (last or 0) + 1


def format_resource_code(prefix: str, sequence: int) -> str:
    """前段码 (the classification) / 后段码 (a six-digit sequence number)."""
    return f"{prefix}/{sequence:06d}"


# --- validation ----------------------------------------------------------------------------


def _check_related(session: Session, codes: Sequence[str], own: str | None) -> list[str]:
    wanted = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    if own is not None and own in wanted:
        raise UserError(f"entry {own} cannot be related to itself")
    found = set(session.scalars(
        select(CatalogEntry.resource_code).where(CatalogEntry.resource_code.in_(wanted))
    ))
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise UserError(f"unknown related resource code(s): {', '.join(unknown)}")
    return wanted


def _elements_for(session: Session, items: Sequence[ItemInput]) -> dict[str, DataElement]:
    codes = {item.element_code for item in items if item.element_code}
    elements = {e.code: e for e in session.scalars(
        select(DataElement).where(DataElement.code.in_(codes))
    )}
    unknown = sorted(codes - elements.keys())
    if unknown:
        raise UserError(f"unknown data element code(s): {', '.join(unknown)}")
    return elements


def _check_items(items: Sequence[ItemInput]) -> None:
    seen: set[str] = set()
    for item in items:
        name = item.name.strip()
        if not name:
            raise UserError("every information item needs a name")
        if name in seen:
            raise UserError(f"information item {name!r} appears twice")
        seen.add(name)


def _clean(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


def _apply(
    session: Session, entry: CatalogEntry, data: EntryUpdate, actor: Actor, *, now: datetime
) -> None:
    """Copy `data` onto `entry` after validating it all (nothing is written on a refusal)."""
    if data.warehouse_table and not WAREHOUSE_TABLE.match(data.warehouse_table):
        raise UserError(
            f"warehouse table {data.warehouse_table!r} must read schema.table in lower case"
        )
    _check_items(data.items)
    elements = _elements_for(session, data.items)
    related = _check_related(session, data.related_codes, entry.resource_code or None)
    entry.name = data.name.strip()
    entry.summary = data.summary.strip()
    entry.format_class = data.format_class
    entry.format_detail = _clean(data.format_detail)
    entry.share_type = data.share_type
    entry.share_conditions = _clean(data.share_conditions)
    entry.share_methods = [m.value for m in dict.fromkeys(data.share_methods)]
    entry.open_to_public = data.open_to_public
    entry.open_conditions = _clean(data.open_conditions)
    entry.update_cycle = data.update_cycle
    entry.related_codes = related
    entry.classified = data.classified
    entry.tags = list(dict.fromkeys(t.strip() for t in data.tags if t.strip()))
    entry.record_count = data.record_count
    entry.storage_bytes = data.storage_bytes
    entry.warehouse_table = data.warehouse_table or None
    existing = {item.name: item for item in entry.items}
    kept: list[InfoItem] = []
    for position, given in enumerate(data.items):
        item = existing.pop(given.name.strip(), None) or InfoItem(name=given.name.strip())
        item.position = position
        item.column_name = _clean(given.column_name)
        item.data_type = given.data_type
        item.length = given.length
        item.description = _clean(given.description)
        item.security_grade = _clean(given.security_grade)
        element = elements.get(given.element_code) if given.element_code else None
        _map(item, element, actor, now)
        kept.append(item)
    entry.items = kept


def _map(item: InfoItem, element: DataElement | None, actor: Actor, now: datetime) -> None:
    if (item.element.code if item.element else None) == (element.code if element else None):
        return
    item.element = element
    item.mapped_by = actor.name if element is not None else None
    item.mapped_by_id = actor.user_id if element is not None else None
    item.mapped_at = now if element is not None else None


# --- entries -------------------------------------------------------------------------------


def create_entry(
    session: Session, *, data: EntryCreate, provider: Organisation, actor: Actor
) -> CatalogEntry:
    category, subject, heading, subheading = classify(
        data.catalog_type, data.subject, data.heading, data.subheading
    )
    prefix = category + subject + heading + (subheading or "")
    if data.resource_code is not None:
        found = RESOURCE_CODE.match(data.resource_code)
        if found is None:
            raise UserError(
                f"resource code {data.resource_code!r} must read <classification>/<6 digits>"
            )
        if found[1] != prefix:
            raise UserError(
                f"resource code {data.resource_code} does not start with its classification "
                f"{prefix}"
            )
        sequence = int(found[2])
    else:
        sequence = _next_sequence(session, prefix)
    code = format_resource_code(prefix, sequence)
    if session.scalar(select(CatalogEntry.id).where(CatalogEntry.resource_code == code)):
        raise Conflict(f"resource code {code} is already taken")
    entry = CatalogEntry(
        resource_code=code, category=category, subject=subject, heading=heading,
        subheading=subheading, prefix=prefix, sequence=sequence, provider=provider,
        catalog_type=data.catalog_type, status=EntryStatus.DRAFT, created_by_id=actor.user_id,
        items=[],
    )
    _apply(session, entry, data, actor, now=utcnow())
    session.add(entry)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # someone took the same sequence number in the meantime
        raise Conflict(f"resource code {code} is already taken; try again") from None
    record_version(session, entry=entry, action="created", actor=actor)
    return entry


def update_entry(
    session: Session, *, entry: CatalogEntry, data: EntryUpdate, actor: Actor
) -> CatalogEntry:
    check_editable(entry)
    _apply(session, entry, data, actor, now=utcnow())
    entry.status = EntryStatus.DRAFT
    record_version(session, entry=entry, action="edited", actor=actor)
    return entry


def reclassify(
    session: Session, *, entry: CatalogEntry, catalog_type: CatalogType, subject: str | None,
    heading: str, subheading: str | None, actor: Actor,
) -> CatalogEntry:
    """Give a draft that was never published a new classification and, with it, a new resource
    code (auto-registered drafts start under the placeholder 99/999 until a person classifies
    them). Once published a code is permanent: others cite it."""
    check_editable(entry)
    published = session.scalar(select(EntryVersion.id).where(
        EntryVersion.entry_id == entry.id, EntryVersion.status == EntryStatus.PUBLISHED))
    if published is not None:
        raise Conflict(f"entry {entry.resource_code} was published once; its code is permanent")
    category, subject, heading, subheading = classify(catalog_type, subject, heading, subheading)
    prefix = category + subject + heading + (subheading or "")
    if prefix == entry.prefix and catalog_type == entry.catalog_type:
        return entry
    if prefix != entry.prefix:
        entry.sequence = _next_sequence(session, prefix)
        entry.resource_code = format_resource_code(prefix, entry.sequence)
    entry.catalog_type, entry.category, entry.subject = catalog_type, category, subject
    entry.heading, entry.subheading, entry.prefix = heading, subheading, prefix
    entry.status = EntryStatus.DRAFT
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # someone took the same sequence number in the meantime
        raise Conflict(f"resource code {entry.resource_code} is already taken; "
                       "try again") from None
    record_version(session, entry=entry, action="reclassified", actor=actor)
    return entry


def check_editable(entry: CatalogEntry) -> None:
    if entry.status not in EDITABLE:
        hint = {
            EntryStatus.PUBLISHED: "retire it and reopen it as a draft first",
            EntryStatus.RETIRED: "reopen it as a draft first",
        }.get(entry.status, "wait for the review or ask the reviewer to reject it")
        raise Conflict(f"entry {entry.resource_code} is {entry.status.value}: {hint}")


def get_entry(session: Session, code: str) -> CatalogEntry:
    entry = session.scalar(
        select(CatalogEntry).where(CatalogEntry.resource_code == code).options(
            selectinload(CatalogEntry.items).selectinload(InfoItem.element),
            selectinload(CatalogEntry.provider),
        )
    )
    if entry is None:
        raise NotFound(f"no catalog entry with resource code {code!r}")
    return entry


def visible_filter(
    query: Select[tuple[CatalogEntry]], provider_ids: set[int] | None
) -> Select[tuple[CatalogEntry]]:
    """Published entries, and any entry of `provider_ids` (None: every entry)."""
    if provider_ids is None:
        return query
    return query.where(or_(CatalogEntry.status == EntryStatus.PUBLISHED,
                           CatalogEntry.provider_id.in_(provider_ids)))


def list_entries(
    session: Session,
    *,
    provider_ids: set[int] | None,
    provider: Organisation | None = None,
    status: EntryStatus | None = None,
    catalog_type: CatalogType | None = None,
    limit: int | None = None,
) -> list[CatalogEntry]:
    query = visible_filter(select(CatalogEntry), provider_ids).options(
        selectinload(CatalogEntry.provider),
        selectinload(CatalogEntry.items).selectinload(InfoItem.element),
    )
    if provider is not None:
        query = query.where(CatalogEntry.provider_id == provider.id)
    if status is not None:
        query = query.where(CatalogEntry.status == status)
    if catalog_type is not None:
        query = query.where(CatalogEntry.catalog_type == catalog_type)
    query = query.order_by(CatalogEntry.prefix, CatalogEntry.sequence)
    return list(session.scalars(query.limit(limit) if limit else query))


# --- lifecycle -----------------------------------------------------------------------------


def submission_problems(entry: CatalogEntry) -> list[str]:
    """What keeps a draft from review; publishing also needs every blocking normalisation
    rule to pass (catalog/rules)."""
    problems = []
    if not entry.summary:
        problems.append("a summary is required")
    if not entry.items:
        problems.append("at least one information item is required")
    if entry.share_type is ShareType.CONDITIONAL and not entry.share_conditions:
        problems.append("conditional sharing needs its conditions")
    if entry.share_type is ShareType.NOT_SHARED and not entry.share_conditions:
        problems.append("an entry that is not shared needs the basis for it in the conditions")
    if entry.share_type is not ShareType.NOT_SHARED and not entry.share_methods:
        problems.append("a shared entry needs a share method")
    if entry.classified and (entry.open_to_public or entry.share_type is ShareType.UNCONDITIONAL):
        problems.append("a classified (涉密) entry can be neither open nor shared unconditionally")
    return problems


def transition(
    session: Session,
    *,
    entry: CatalogEntry,
    action: Action,
    actor: Actor,
    comment: str | None = None,
) -> CatalogEntry:
    rule = TRANSITIONS[action]
    if entry.status not in rule.sources:
        allowed = ", ".join(sorted(s.value for s in rule.sources))
        raise Conflict(
            f"cannot {action.value} entry {entry.resource_code}: it is {entry.status.value}, "
            f"and only {allowed} entries can be"
        )
    comment = _clean(comment)
    if rule.needs_comment and not comment:
        raise UserError(f"{action.value} needs a comment saying why")
    if action is Action.SUBMIT and (problems := submission_problems(entry)):
        raise UserError(f"entry {entry.resource_code} is not ready: " + "; ".join(problems))
    if action is Action.PUBLISH:
        check_publishable(session, entry)  # 409 naming every blocking rule that fails
    audit.record(session, kind=f"catalog.{action.value}", actor=actor.name,
                 org=entry.provider.code, details={"entry": entry.resource_code,
                 "from": entry.status.value, "to": rule.target.value, "comment": comment})
    entry.status = rule.target
    if action is Action.PUBLISH and entry.publish_date is None:
        entry.publish_date = utcnow().astimezone(SHOWN_ZONE).date()
    record_version(session, entry=entry, action=PAST_TENSE[action], actor=actor,
                   comment=comment)
    return entry


def confirm_mapping(
    session: Session,
    *,
    entry: CatalogEntry,
    item_name: str,
    element_code: str | None,
    actor: Actor,
) -> InfoItem:
    """A person maps an item to a data element (or removes the mapping)."""
    check_editable(entry)
    item = next((i for i in entry.items if i.name == item_name), None)
    if item is None:
        raise NotFound(f"entry {entry.resource_code} has no information item {item_name!r}")
    element = None
    if element_code:
        element = session.scalar(select(DataElement).where(DataElement.code == element_code))
        if element is None:
            raise UserError(f"unknown data element code {element_code!r}")
    _map(item, element, actor, utcnow())
    entry.status = EntryStatus.DRAFT
    record_version(session, entry=entry, action="mapped", actor=actor,
                   comment=f"{item.name} → {element.code if element else '—'}")
    return item


def record_grades(
    session: Session, *, entry: CatalogEntry, grades: Mapping[str, str], actor: Actor,
) -> list[str]:
    """Grades a person confirmed (security slice) become the items' security grades.

    `grades` maps item names to grade codes; the entry keeps its status (grading is not an
    edit of the resource), and one version records what changed. Returns the changed items.
    """
    changed = []
    for item in entry.items:
        grade = grades.get(item.name)
        if grade is not None and item.security_grade != grade:
            item.security_grade = grade
            changed.append(item.name)
    if changed:
        record_version(session, entry=entry, action="graded", actor=actor,
                       comment="security grades confirmed: " + "、".join(changed))
    return changed
