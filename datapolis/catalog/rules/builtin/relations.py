"""Rules across entries: related resources and duplicates."""

from __future__ import annotations

from collections.abc import Iterator

from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.registry import Category, Finding, Severity, rule
from datapolis.catalog.rules.text import fold
from datapolis.web.i18n import N_

R, B, W = Category.RELATIONS, Severity.BLOCKING, Severity.WARNING
GOING_PUBLIC = frozenset({EntryStatus.APPROVED, EntryStatus.PUBLISHED})


@rule("R46", "Related resource codes exist", "关联资源代码须存在", category=R, severity=B,
      applies=lambda e, c: bool(e.related_codes))
def related_exist(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Every related resource code is the code of an entry in the catalog, not the entry's
    own."""
    unknown = [code for code in entry.related_codes if code not in ctx.by_code]
    if unknown:
        yield Finding(N_("unknown related resource codes: %(codes)s"),
                      {"codes": ", ".join(unknown)})
    if entry.resource_code in entry.related_codes:
        yield Finding(N_("the entry is related to itself"))


@rule("R47", "A published entry relates to no retired one", "已上架资源不得关联已下架资源",
      category=R, severity=B,
      applies=lambda e, c: e.status in GOING_PUBLIC and bool(e.related_codes))
def related_not_retired(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry that is published, or approved to be, does not name a retired entry as
    related: readers would follow it to a resource that is gone."""
    retired = [code for code in entry.related_codes
               if (facts := ctx.by_code.get(code)) and facts.status is EntryStatus.RETIRED]
    if retired:
        yield Finding(N_("related to retired entries: %(codes)s"), {"codes": ", ".join(retired)})


@rule("R48", "One entry per warehouse table in each catalog class",
      "同一库表在同类目录中只编目一次", category=R, severity=B,
      applies=lambda e, c: bool(e.warehouse_table))
def one_entry_per_table(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """No other live (not retired) entry of the same class (基础 1, 主题 2, 部门 3) points at
    the same warehouse table. One table may back a basic and a departmental entry, as the
    national guide's three catalogs overlap by design; twice in one catalog is a duplicate."""
    others = [f.resource_code for f in ctx.by_table.get(entry.warehouse_table or "", [])
              if f.id != entry.id and f.resource_code[:1] == entry.category]
    if others:
        yield Finding(N_("%(table)s is also catalogued as %(codes)s"),
                      {"table": entry.warehouse_table or "", "codes": ", ".join(others)})


@rule("R49", "Names are unique within a provider", "同一提供方的资源名称不重复",
      category=R, severity=B)
def name_unique_in_provider(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """No other live entry of the same provider has the same name (compared without white
    space, width or case differences)."""
    name = fold(entry.name)
    others = [f.resource_code for f in ctx.by_provider.get(entry.provider_id, [])
              if f.id != entry.id and fold(f.name) == name]
    if others:
        yield Finding(N_("the provider already has an entry of this name: %(codes)s"),
                      {"codes": ", ".join(others)})
