"""Rules on the share attribute: share type, its conditions and methods, and 涉密."""

from __future__ import annotations

from collections.abc import Iterator

from datapolis.catalog.enums import ShareType
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.grades import parse_grade, rank
from datapolis.catalog.rules.registry import Category, Finding, Severity, rule
from datapolis.web.i18n import N_

S, B, W = Category.SHARING, Severity.BLOCKING, Severity.WARNING
MIN_CONDITIONS = 4  # characters: "用于核验" is about the shortest real condition
MIN_BASIS = 6  # characters: a legal basis names a law or regulation and its article


def _conditions(entry: CatalogEntry) -> str:
    return (entry.share_conditions or "").strip()


@rule("R15", "Conditional sharing states its conditions", "有条件共享须注明共享条件",
      category=S, severity=B, applies=lambda e, c: e.share_type is ShareType.CONDITIONAL)
def conditional_has_conditions(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A 有条件共享 entry states its conditions (at least four characters)."""
    if len(_conditions(entry)) < MIN_CONDITIONS:
        yield Finding(N_("conditional sharing without its conditions"))


@rule("R16", "Unconditional sharing carries no conditions", "无条件共享不得附带共享条件",
      category=S, severity=B, applies=lambda e, c: e.share_type is ShareType.UNCONDITIONAL)
def unconditional_has_none(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A 无条件共享 entry has no share conditions: with conditions it is conditional."""
    if _conditions(entry):
        yield Finding(N_("shared unconditionally, yet it states conditions"))


@rule("R17", "Not shared: the basis is stated", "不予共享须注明法律法规依据或理由",
      category=S, severity=B, applies=lambda e, c: e.share_type is ShareType.NOT_SHARED)
def not_shared_has_basis(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A 不予共享 entry states the legal basis or reason in its conditions (at least six
    characters)."""
    if len(_conditions(entry)) < MIN_BASIS:
        yield Finding(N_("not shared, but no legal basis or reason is stated"))


@rule("R18", "A shared entry has a share method", "共享资源须注明共享方式",
      category=S, severity=B, applies=lambda e, c: e.share_type is not ShareType.NOT_SHARED)
def shared_has_method(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry that is shared (conditionally or not) names at least one share method:
    interface, database tables or files."""
    if not entry.share_methods:
        yield Finding(N_("no share method"))


@rule("R19", "An entry not shared has no share method", "不予共享资源不应注明共享方式",
      category=S, severity=W, applies=lambda e, c: e.share_type is ShareType.NOT_SHARED)
def not_shared_no_method(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A 不予共享 entry lists no share method."""
    if entry.share_methods:
        yield Finding(N_("not shared, yet it lists share methods"))


@rule("R20", "A classified entry is neither shared nor open", "涉密资源不予共享且不向社会开放",
      category=S, severity=B, applies=lambda e, c: e.classified)
def classified_closed(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A 涉密 entry is 不予共享 and not open to the public."""
    if entry.share_type is not ShareType.NOT_SHARED:
        yield Finding(N_("a classified entry must not be shared"))
    if entry.open_to_public:
        yield Finding(N_("a classified entry must not be open to the public"))


@rule("R21", "Sensitive items are not shared unconditionally",
      "含三、四级信息项的资源不宜无条件共享", category=S, severity=W,
      applies=lambda e, c: e.share_type is ShareType.UNCONDITIONAL)
def unconditional_not_sensitive(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry shared unconditionally has no item graded L3 or L4."""
    sensitive = [item.name for item in entry.items
                 if (grade := parse_grade(item.security_grade)) and rank(grade) >= 3]
    if sensitive:
        yield Finding(N_("shared unconditionally with items graded L3 or L4: %(items)s"),
                      {"items": "、".join(sensitive)})
