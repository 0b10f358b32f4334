"""Rules on the open attribute against the security grades of the items (核心, 重要, L1–L4)."""

from __future__ import annotations

from collections.abc import Iterator

from datapolis.catalog.enums import ShareType
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.grades import NEVER_OPEN, OPENABLE, parse_grade
from datapolis.catalog.rules.registry import Category, Finding, Severity, rule
from datapolis.web.i18n import N_

OPENING, B, W = Category.OPENING, Severity.BLOCKING, Severity.WARNING


def _open(entry: CatalogEntry, ctx: RuleContext) -> bool:
    return entry.open_to_public


@rule("R22", "An open entry has no L4, important or core item",
      "向社会开放的资源不得含四级、重要或核心数据信息项",
      category=OPENING, severity=B, applies=_open)
def open_without_l4(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry open to the public has no item graded L4, important or core (never opened)."""
    never = [i.name for i in entry.items if parse_grade(i.security_grade) in NEVER_OPEN]
    if never:
        yield Finding(N_("open to the public with items graded L4: %(items)s"),
                      {"items": "、".join(never)})


@rule("R23", "An open entry with L2–L3 items states its open conditions",
      "含二、三级信息项的开放资源须注明开放条件（脱敏、依申请）",
      category=OPENING, severity=B, applies=_open)
def open_conditions_for_graded(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An open entry with items graded L2 or L3 states open conditions: those items may be
    opened only de-identified and by application."""
    graded = [i.name for i in entry.items if parse_grade(i.security_grade) in ("L2", "L3")]
    if graded and not (entry.open_conditions or "").strip():
        yield Finding(N_("items graded L2–L3 (%(items)s) are opened without conditions"),
                      {"items": "、".join(graded)})


@rule("R24", "An entry not shared is not open", "不予共享的资源不得向社会开放",
      category=OPENING, severity=B, applies=_open)
def open_but_not_shared(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry that departments may not share cannot be open to the public."""
    if entry.share_type is ShareType.NOT_SHARED:
        yield Finding(N_("open to the public but not shared with departments"))


@rule("R25", "Open conditions only for an open entry", "未开放的资源不应填写开放条件",
      category=OPENING, severity=W, applies=lambda e, c: not e.open_to_public)
def conditions_without_opening(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry that is not open to the public has no open conditions (they suggest the open
    flag was forgotten)."""
    if (entry.open_conditions or "").strip():
        yield Finding(N_("open conditions on an entry that is not open"))


@rule("R26", "Security grades are known", "信息项安全级别取值有效（核心、重要、L1至L4）",
      category=OPENING, severity=B)
def grades_known(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Every grade given on an item is one of core, important, L1, L2, L3, L4."""
    unknown = [f"{i.name} ({i.security_grade})" for i in entry.items
               if (i.security_grade or "").strip() and parse_grade(i.security_grade) is None]
    if unknown:
        yield Finding(N_("unknown security grades: %(items)s"), {"items": "、".join(unknown)})


@rule("R27", "Every item has a security grade", "信息项均已定级", category=OPENING, severity=W)
def items_graded(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Every information item carries a security grade (分类分级 grades every field)."""
    missing = [i.name for i in entry.items if not (i.security_grade or "").strip()]
    if missing:
        yield Finding(N_("items without a security grade: %(items)s"),
                      {"items": "、".join(missing)})


@rule("R28", "An open entry has every item graded", "向社会开放的资源须全部信息项定级",
      category=OPENING, severity=B, applies=_open)
def open_items_graded(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Before an entry is opened, each of its items has a grade, so that R22 and R23 can
    speak for all of them; only L1 items open as they are."""
    ungraded = [i.name for i in entry.items if parse_grade(i.security_grade) is None]
    if ungraded:
        yield Finding(N_("open to the public with ungraded items: %(items)s"),
                      {"items": "、".join(ungraded)})


assert OPENABLE == "L1"  # what R23 and R28 assume the grade vocabulary says
