"""Rules on the classification (类 / 项 / 目 / 细目) and the resource code built from it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from datapolis.catalog.enums import CLASS_OF, UNCLASSIFIED_HEADING, CatalogType
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.registry import Category, Finding, Severity, rule
from datapolis.web.i18n import N_

C, B, W = Category.CLASSIFICATION, Severity.BLOCKING, Severity.WARNING
RESOURCE_CODE = re.compile(r"^\d{6}(?:\d{3})?/\d{6}$")


@rule("R10", "Resource code reads classification/six digits", "资源代码格式为“前段码/后段码”",
      category=C, severity=B)
def code_format(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The resource code is a 6- or 9-digit classification, a slash and a 6-digit sequence
    number other than 000000."""
    code = entry.resource_code
    if not RESOURCE_CODE.match(code) or code.endswith("/000000"):
        yield Finding(N_("resource code %(code)s does not read <classification>/<6 digits>"),
                      {"code": code})


@rule("R11", "Resource code matches the classification", "资源代码与分类一致",
      category=C, severity=B)
def code_matches_classification(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The code's first part is 类+项+目(+细目) of the entry and its second part is the
    entry's sequence number."""
    prefix = entry.category + entry.subject + entry.heading + (entry.subheading or "")
    if entry.prefix != prefix:
        yield Finding(N_("the stored prefix %(stored)s differs from the classification %(prefix)s"),
                      {"stored": entry.prefix, "prefix": prefix})
    expected = f"{prefix}/{entry.sequence:06d}"
    if entry.resource_code != expected:
        yield Finding(N_("resource code %(code)s should be %(expected)s"),
                      {"code": entry.resource_code, "expected": expected})


@rule("R12", "Classification codes are well formed", "分类代码（类、项、目、细目）位数正确",
      category=C, severity=B)
def classification_digits(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """类 is 1, 2 or 3; 项 two digits 01–99; 目 three digits 001–999; 细目 three digits
    001–999 or empty."""
    if entry.category not in ("1", "2", "3"):
        yield Finding(N_("class %(code)s must be 1, 2 or 3"), {"code": entry.category})
    if not re.fullmatch(r"\d{2}", entry.subject) or entry.subject == "00":
        yield Finding(N_("subject %(code)s must be two digits from 01 to 99"),
                      {"code": entry.subject})
    if not re.fullmatch(r"\d{3}", entry.heading) or entry.heading == "000":
        yield Finding(N_("heading %(code)s must be three digits from 001 to 999"),
                      {"code": entry.heading})
    sub = entry.subheading
    if sub is not None and (not re.fullmatch(r"\d{3}", sub) or sub == "000"):
        yield Finding(N_("subheading %(code)s must be three digits from 001 to 999"),
                      {"code": sub})


@rule("R13", "Catalog type matches the classification", "目录类型与分类一致（基础库须在对应项下）",
      category=C, severity=B)
def type_matches_classification(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Basic entries are class 1 under the subject of their library (01 population … 05
    licences), thematic entries class 2, departmental entries class 3."""
    category, subject = CLASS_OF[entry.catalog_type]
    if entry.category != category:
        yield Finding(N_("a %(type)s entry belongs in class %(expected)s, not %(code)s"),
                      {"type": entry.catalog_type.value, "expected": category,
                       "code": entry.category})
    elif subject is not None and entry.subject != subject:
        yield Finding(N_("a %(type)s entry belongs under subject %(expected)s, not %(code)s"),
                      {"type": entry.catalog_type.value, "expected": subject,
                       "code": entry.subject})


@rule("R14", "A departmental subject belongs to one provider", "部门目录的“项”对应唯一提供部门",
      category=C, severity=W,
      applies=lambda entry, ctx: entry.catalog_type is CatalogType.DEPARTMENT)
def department_subject_owned(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """In the departmental catalog (class 3) the subject (项) stands for the department, so no
    other provider has live entries under the same subject."""
    others = ctx.subject_providers.get(entry.subject, set()) - {entry.provider_id}
    if others:
        yield Finding(N_("subject %(code)s is also used by %(n)s other provider(s)"),
                      {"code": entry.subject, "n": len(others)})


@rule("R50", "Classified by a person", "已由人工完成分类", category=C, severity=B)
def classified_by_a_person(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The entry is not under auto-registration's placeholder 目 999 (项 99 outside the basic
    catalog): someone chose where it belongs, which also gives it its real resource code."""
    if entry.heading == UNCLASSIFIED_HEADING:
        yield Finding(N_("not classified yet: 目 999 is the placeholder of auto-registration; "
                         "classify the entry again"))
