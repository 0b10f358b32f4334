"""The category scheme: sectors (行业/领域) → businesses (业务), edited by the bureau.

A scheme travels as a YAML or JSON document:

    sectors:
      - {code: "03", name: 社会保障, name_en: Social security,
         businesses: [{code: "0301", name: 社会保险, name_en: Social insurance}]}

`import_scheme` validates the whole document before it writes anything, then adds and renames
categories by code; with `replace` it also removes categories the document leaves out, but
never one an entry is still assigned to. Every change goes into the audit log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.security.audit import service as audit
from datapolis.security.grading.default_scheme import default_scheme
from datapolis.security.grading.models import EntryCategory, SchemeCategory

CODE = re.compile(r"^[A-Za-z0-9]{1,16}$")
FORMATS = ("yaml", "json")


class SchemeError(UserError):
    """A scheme document or a category change that cannot be taken."""


@dataclass(frozen=True)
class CategoryInput:
    code: str
    name: str
    name_en: str | None = None
    description: str | None = None
    businesses: tuple[CategoryInput, ...] = field(default=())


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------


def list_sectors(session: Session) -> list[SchemeCategory]:
    return list(session.scalars(
        select(SchemeCategory).where(SchemeCategory.parent_id.is_(None))
        .options(selectinload(SchemeCategory.children))
        .order_by(SchemeCategory.position, SchemeCategory.code)))


def get_category(session: Session, code: str) -> SchemeCategory:
    found = session.scalar(select(SchemeCategory).where(SchemeCategory.code == code))
    if found is None:
        raise NotFound(f"no category {code!r} in the classification scheme")
    return found


def get_business(session: Session, code: str) -> SchemeCategory:
    found = get_category(session, code)
    if found.parent_id is None:
        raise SchemeError(f"category {code!r} is a sector; entries are assigned a business "
                          f"under it: {', '.join(c.code for c in found.children) or 'none yet'}")
    return found


def export_scheme(session: Session) -> dict[str, Any]:
    def one(category: SchemeCategory) -> dict[str, Any]:
        out: dict[str, Any] = {"code": category.code, "name": category.name}
        if category.name_en:
            out["name_en"] = category.name_en
        if category.description:
            out["description"] = category.description
        return out

    return {"sectors": [{**one(sector), "businesses": [one(b) for b in sector.children]}
                        for sector in list_sectors(session)]}


def dump(document: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        text: str = yaml.safe_dump(dict(document), allow_unicode=True, sort_keys=False)
        return text
    raise SchemeError(f"unknown scheme format {fmt!r}; known: {', '.join(FORMATS)}")


# --- parsing a document --------------------------------------------------------------------


def load(text: str) -> Any:
    """A YAML or JSON document (JSON is YAML, but its errors read better from json)."""
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SchemeError(f"the scheme is not valid YAML or JSON: {exc}") from exc


def _category(raw: Any, where: str, *, sector: bool) -> CategoryInput:
    if not isinstance(raw, Mapping):
        raise SchemeError(f"{where}: expected a mapping with code and name")
    unknown = set(raw) - {"code", "name", "name_en", "description",
                          *(("businesses",) if sector else ())}
    if unknown:
        raise SchemeError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    code = str(raw.get("code", "")).strip()
    if not CODE.match(code):
        raise SchemeError(f"{where}: code {code!r} must be 1–16 letters or digits")
    name = str(raw.get("name") or "").strip()
    if not name or len(name) > 100:
        raise SchemeError(f"{where} ({code}): a name of 1–100 characters is required")
    name_en = str(raw["name_en"]).strip() or None if raw.get("name_en") else None
    description = str(raw["description"]).strip() or None if raw.get("description") else None
    children: tuple[CategoryInput, ...] = ()
    if sector:
        given = raw.get("businesses") or []
        if not isinstance(given, list):
            raise SchemeError(f"{where} ({code}): businesses must be a list")
        children = tuple(_category(b, f"{where} ({code}) business {n}", sector=False)
                         for n, b in enumerate(given, 1))
    return CategoryInput(code, name, name_en, description, children)


def parse(document: Any) -> list[CategoryInput]:
    """Validated sectors of a scheme document; every problem names where it is."""
    if not isinstance(document, Mapping) or not isinstance(document.get("sectors"), list):
        raise SchemeError("a scheme is a mapping with a list under 'sectors'")
    sectors = [_category(raw, f"sector {n}", sector=True)
               for n, raw in enumerate(document["sectors"], 1)]
    seen: set[str] = set()
    for category in (c for s in sectors for c in (s, *s.businesses)):
        if category.code in seen:
            raise SchemeError(f"category code {category.code!r} appears twice in the scheme")
        seen.add(category.code)
    if not sectors:
        raise SchemeError("the scheme has no sectors")
    return sectors


# --- changing --------------------------------------------------------------------------------


def _assigned(session: Session, categories: list[SchemeCategory]) -> list[str]:
    ids = [c.id for c in categories]
    if not ids:
        return []
    rows = session.execute(
        select(SchemeCategory.code, func.count(EntryCategory.id))
        .join(EntryCategory, EntryCategory.category_id == SchemeCategory.id)
        .where(SchemeCategory.id.in_(ids)).group_by(SchemeCategory.code))
    return [f"{code} ({n})" for code, n in rows]


def import_scheme(session: Session, document: Any, *, actor: str, replace: bool = False,
                  via: str = "api") -> ImportReport:
    sectors = parse(document)
    existing = {c.code: c for c in session.scalars(select(SchemeCategory))}
    wanted = {c.code: (s, c) for s in sectors for c in (s, *s.businesses)}
    for code, (sector, given) in wanted.items():
        stored = existing.get(code)
        if stored is not None and (stored.parent_id is None) != (given is sector):
            level = "sector" if stored.parent_id is None else "business"
            raise SchemeError(f"category {code!r} is a {level} in the stored scheme; the "
                              "document cannot move it to the other level")
    report = ImportReport()
    gone = [c for code, c in existing.items() if code not in wanted] if replace else []
    if in_use := _assigned(session, gone):
        raise Conflict("the scheme leaves out categories entries are assigned to: "
                       + ", ".join(in_use))
    for position, sector in enumerate(sectors):
        parent = _upsert(session, existing, sector, None, position, report)
        for child_position, business in enumerate(sector.businesses):
            _upsert(session, existing, business, parent, child_position, report)
    for category in sorted(gone, key=lambda c: c.parent_id is None):  # businesses first
        session.delete(category)
        report.removed.append(category.code)
    session.flush()
    audit.record(session, kind="grade.scheme_imported", actor=actor, details={
        "via": via, "replace": replace, "added": report.added, "updated": report.updated,
        "removed": report.removed})
    return report


def _upsert(session: Session, existing: dict[str, SchemeCategory], given: CategoryInput,
            parent: SchemeCategory | None, position: int, report: ImportReport
            ) -> SchemeCategory:
    stored = existing.get(given.code)
    if stored is None:
        stored = SchemeCategory(code=given.code, name=given.name, name_en=given.name_en,
                                description=given.description, position=position,
                                parent=parent)
        session.add(stored)
        session.flush()
        existing[given.code] = stored
        report.added.append(given.code)
        return stored
    before = (stored.name, stored.name_en, stored.description, stored.parent_id)
    stored.name, stored.name_en, stored.description = given.name, given.name_en, given.description
    stored.position = position
    if parent is not None:
        stored.parent = parent
    session.flush()
    if before != (stored.name, stored.name_en, stored.description, stored.parent_id):
        report.updated.append(given.code)
    return stored


def seed_default(session: Session, *, actor: str = "system") -> ImportReport | None:
    """Load the default scheme into an empty registry; None when a scheme is already there."""
    if session.scalar(select(func.count(SchemeCategory.id))):
        return None
    return import_scheme(session, default_scheme(), actor=actor, via="default")


def save_category(session: Session, *, code: str, name: str, name_en: str | None = None,
                  parent_code: str | None = None, actor: str) -> SchemeCategory:
    """Add a sector (no parent) or a business, or rename an existing one."""
    given = _category({"code": code, "name": name, "name_en": name_en}, f"category {code!r}",
                      sector=False)
    parent = get_category(session, parent_code) if parent_code else None
    if parent is not None and parent.parent_id is not None:
        raise SchemeError(f"{parent.code} is a business; businesses go under a sector")
    stored = session.scalar(select(SchemeCategory).where(SchemeCategory.code == given.code))
    if stored is not None and (stored.parent_id is None) != (parent is None):
        raise SchemeError(f"category {given.code!r} already exists at the other level")
    if stored is None:
        siblings = parent.children if parent is not None else list_sectors(session)
        stored = SchemeCategory(code=given.code, parent=parent, position=len(siblings))
        session.add(stored)
        action = "added"
    else:
        action = "updated"
        if parent is not None:
            stored.parent = parent
    stored.name, stored.name_en = given.name, given.name_en
    session.flush()
    audit.record(session, kind="grade.scheme_changed", actor=actor, details={
        "action": action, "code": stored.code, "name": stored.name,
        "parent": parent.code if parent else None})
    return stored


def remove_category(session: Session, *, code: str, actor: str) -> None:
    category = get_category(session, code)
    if in_use := _assigned(session, [category, *category.children]):
        raise Conflict(f"category {code} is still assigned to entries: {', '.join(in_use)}")
    session.delete(category)
    session.flush()
    audit.record(session, kind="grade.scheme_changed", actor=actor,
                 details={"action": "removed", "code": code})
