"""Rules on what describes a resource: name, summary, provider, format and tags."""

from __future__ import annotations

import re
from collections.abc import Iterator

from datapolis.catalog.enums import FormatClass
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.registry import Category, Finding, Severity, rule
from datapolis.catalog.rules.text import (
    bare,
    half_width_in_chinese,
    has_white_space,
    punctuation_at_edges,
    repeated_punctuation,
)
from datapolis.web.i18n import N_

D, B, W = Category.DESCRIPTION, Severity.BLOCKING, Severity.WARNING
NAME_LENGTH = (2, 100)
SUMMARY_LENGTH = (10, 2000)
ORG_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{1,63}$")
DIVISION = re.compile(r"^\d{6}(?:\d{3}(?:\d{3})?)?$")


@rule("R01", "Name given, 2 to 100 characters", "资源名称必填（2至100字）",
      category=D, severity=B)
def name_present(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The resource name (资源名称) is present and 2–100 characters long."""
    length = len(entry.name.strip())
    if not NAME_LENGTH[0] <= length <= NAME_LENGTH[1]:
        yield Finding(N_("the name has %(n)s characters; it needs 2 to 100"), {"n": length})


@rule("R02", "Summary given, 10 to 2,000 characters", "资源摘要必填（10至2000字）",
      category=D, severity=B)
def summary_present(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The summary (资源摘要) is present and 10–2,000 characters long."""
    length = len(entry.summary.strip())
    if not SUMMARY_LENGTH[0] <= length <= SUMMARY_LENGTH[1]:
        yield Finding(N_("the summary has %(n)s characters; it needs 10 to 2,000"),
                      {"n": length})


@rule("R03", "Summary says more than the name", "资源摘要不得简单重复资源名称",
      category=D, severity=W)
def summary_not_name(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Once the name is taken out of the summary, at least four characters remain."""
    rest = bare(entry.summary).replace(bare(entry.name), "")
    if entry.summary.strip() and len(rest) < 4:
        yield Finding(N_("the summary only repeats the name"))


@rule("R04", "Provider has an organisation code and a valid division code",
      "提供方须有机构代码和有效的行政区划代码", category=D, severity=B)
def provider_coded(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The provider has an organisation code, and a division code of 6, 9 or 12 digits whose
    first six are a GB/T 2260 code wherever the seeded division table covers the province."""
    org = entry.provider
    if not ORG_CODE.match(org.code or ""):
        yield Finding(N_("the provider's organisation code %(code)s is malformed"),
                      {"code": org.code or ""})
    division = org.division_code or ""
    if not DIVISION.match(division):
        yield Finding(N_("the provider's division code %(code)s is not 6, 9 or 12 digits"),
                      {"code": division})
        return
    county = division[:6]
    covered = any(code.startswith(county[:2]) for code in ctx.division_codes)
    province = county[2:] == "0000"
    if covered and not province and county not in ctx.division_codes:
        yield Finding(N_("the provider's division code %(code)s is not in GB/T 2260"),
                      {"code": county})


@rule("R05", "A format of class Other says which", "资源格式为“其他”时须注明具体格式",
      category=D, severity=B)
def format_detailed(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry whose format class is 其他 names the format in the format detail."""
    if entry.format_class is FormatClass.OTHER and not (entry.format_detail or "").strip():
        yield Finding(N_("the format is Other but no format detail says which"))


@rule("R06", "A database resource names its warehouse table", "数据库类资源须登记对应库表",
      category=D, severity=W)
def database_has_table(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry in database format points at the warehouse table that holds it."""
    if entry.format_class is FormatClass.DATABASE and not entry.warehouse_table:
        yield Finding(N_("a database resource without a warehouse table"))


@rule("R07", "At least one tag", "至少一个标签", category=D, severity=W)
def tagged(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The entry has at least one tag, so that search facets and lists can find it."""
    if not [tag for tag in entry.tags if tag.strip()]:
        yield Finding(N_("no tags"))


@rule("R08", "Name without spaces or half-width punctuation", "资源名称不含空格和半角标点",
      category=D, severity=W)
def name_hygiene(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The name has no white space (half- or full-width), no half-width punctuation against
    Chinese characters, no doubled punctuation and no punctuation at either end."""
    name = entry.name
    if has_white_space(name):
        yield Finding(N_("the name contains white space"))
    if marks := half_width_in_chinese(name):
        yield Finding(N_("half-width punctuation in a Chinese name: %(marks)s"),
                      {"marks": " ".join(marks)})
    if marks := repeated_punctuation(name):
        yield Finding(N_("doubled punctuation: %(marks)s"), {"marks": " ".join(marks)})
    if punctuation_at_edges(name.strip()):
        yield Finding(N_("the name starts or ends with punctuation"))


@rule("R09", "Summary uses Chinese punctuation", "资源摘要使用中文标点",
      category=D, severity=W)
def summary_hygiene(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A Chinese summary has no half-width punctuation against Chinese characters and no
    doubled punctuation."""
    if marks := half_width_in_chinese(entry.summary):
        yield Finding(N_("half-width punctuation in a Chinese summary: %(marks)s"),
                      {"marks": " ".join(marks)})
    if marks := repeated_punctuation(entry.summary):
        yield Finding(N_("doubled punctuation: %(marks)s"), {"marks": " ".join(marks)})
