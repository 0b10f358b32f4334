"""Rules on the information items (信息项): names, types, lengths and data elements."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from datapolis.catalog.enums import DataType
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.registry import Category, Finding, Severity, rule
from datapolis.catalog.rules.text import fold
from datapolis.warehouse.engine import is_identifier
from datapolis.web.i18n import N_

ITEMS, B, W = Category.ITEMS, Severity.BLOCKING, Severity.WARNING
NEEDS_LENGTH = frozenset({DataType.STRING, DataType.DECIMAL})
CODED_NAME = re.compile(r"(代码|编码|代号|类别|类型)$")
# "c18" fixed, "c..50" up to 50, "n2" fixed digits (GB/T 18391 representation).
FORMAT = re.compile(r"^[a-z]+(\.\.)?(\d+)$")


def _has_items(entry: CatalogEntry, ctx: RuleContext) -> bool:
    return bool(entry.items)


@rule("R29", "At least one information item", "至少一个信息项", category=ITEMS, severity=B)
def has_items(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The entry lists at least one information item."""
    if not entry.items:
        yield Finding(N_("no information items"))


@rule("R30", "Items named, typed, with a length where needed", "信息项须有名称、类型及必要的长度",
      category=ITEMS, severity=B, applies=_has_items)
def items_complete(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Every item has a name and a data type; character and decimal items have a positive
    length."""
    for item in entry.items:
        if not item.name.strip():
            yield Finding(N_("item %(n)s has no name"), {"n": item.position + 1})
        if item.data_type in NEEDS_LENGTH and not item.length:
            yield Finding(N_("item %(item)s of type %(type)s needs a length"),
                          {"item": item.name, "type": item.data_type.value})


@rule("R31", "Item names are unique", "信息项名称在资源内唯一", category=ITEMS, severity=B,
      applies=_has_items)
def item_names_unique(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """No two items have names that differ only in width, case or white space."""
    counts = Counter(fold(item.name) for item in entry.items)
    for item in entry.items:
        if counts[fold(item.name)] > 1:
            yield Finding(N_("item name %(item)s appears more than once"), {"item": item.name})
            counts[fold(item.name)] = 0


@rule("R32", "Column names are identifiers, each used once", "字段名合法且不重复",
      category=ITEMS, severity=B, applies=_has_items)
def columns_valid(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Where items name their column, the name is an identifier and no two items share it."""
    seen: set[str] = set()
    for item in entry.items:
        column = item.column_name
        if column is None:
            continue
        if not is_identifier(column):
            yield Finding(N_("column %(column)s of item %(item)s is not an identifier"),
                          {"column": column, "item": item.name})
        elif column.lower() in seen:
            yield Finding(N_("column %(column)s is used by two items"), {"column": column})
        seen.add(column.lower())


@rule("R33", "Items are mapped to data elements", "信息项关联数据元", category=ITEMS, severity=W,
      applies=_has_items)
def items_mapped(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """Every item maps to a data element (数据元), confirmed by a person."""
    unmapped = [item.name for item in entry.items if item.element is None]
    if unmapped:
        yield Finding(N_("items not mapped to a data element: %(items)s"),
                      {"items": "、".join(unmapped)})


@rule("R34", "A mapped item has its element's type", "关联数据元的信息项类型与数据元一致",
      category=ITEMS, severity=B, applies=_has_items)
def mapped_types(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An item mapped to a data element has the element's data type."""
    for item in entry.items:
        element = item.element
        if element is not None and item.data_type != element.data_type:
            yield Finding(
                N_("item %(item)s is %(type)s but element %(element)s is %(expected)s"),
                {"item": item.name, "type": item.data_type.value, "element": element.name,
                 "expected": element.data_type.value})


@rule("R35", "A mapped item has its element's length", "关联数据元的信息项长度与数据元相符",
      category=ITEMS, severity=B, applies=_has_items)
def mapped_lengths(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A character item mapped to an element of fixed length (c18, n2) has exactly that
    length; mapped to one of bounded length (c..50) at most that length."""
    for item in entry.items:
        element = item.element
        if element is None or element.data_type is not DataType.STRING or not item.length:
            continue
        found = FORMAT.match(element.format or "")
        fixed = found is not None and found[1] is None
        limit = int(found[2]) if found else element.length
        if limit is None:
            continue
        if fixed and item.length != limit:
            yield Finding(N_("item %(item)s has length %(n)s; element %(element)s is exactly "
                             "%(limit)s"), {"item": item.name, "n": item.length,
                                           "element": element.name, "limit": limit})
        elif not fixed and item.length > limit:
            yield Finding(N_("item %(item)s has length %(n)s; element %(element)s allows at "
                             "most %(limit)s"), {"item": item.name, "n": item.length,
                                                 "element": element.name, "limit": limit})


@rule("R36", "A coded item can hold its code table's codes", "关联码表的信息项可容纳码表代码",
      category=ITEMS, severity=B, applies=_has_items)
def code_table_fits(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An item whose element takes its values from a code table is a character item at
    least as long as the table's longest code."""
    for item in entry.items:
        element = item.element
        if element is None or element.code_table_id is None:
            continue
        width = ctx.code_table_widths.get(element.code_table_id, 0)
        if item.data_type is not DataType.STRING:
            yield Finding(N_("item %(item)s holds codes but is not of character type"),
                          {"item": item.name})
        elif item.length is not None and item.length < width:
            yield Finding(N_("item %(item)s has length %(n)s; its codes need %(width)s"),
                          {"item": item.name, "n": item.length, "width": width})


@rule("R37", "Coded items name their code table", "代码类信息项须关联带码表的数据元",
      category=ITEMS, severity=W, applies=_has_items)
def coded_items_have_table(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An item whose name says it holds codes (…代码, …编码, …类别) maps to a data element with
    a code table, so that its values can be read and checked; identifiers such as the credit
    code map to an element with a value pattern instead."""
    for item in entry.items:
        element = item.element
        if CODED_NAME.search(item.name.strip()) and (
            element is None or (element.code_table_id is None and not element.value_pattern)
        ):
            yield Finding(N_("item %(item)s holds codes but names no code table"),
                          {"item": item.name})
