"""Suggested rules from the catalog's profile of a table: a person accepts them.

A column whose values mostly look like resident IDs gets the ID rule, credit codes the credit
code rule, phones the mobile rule, text dates the date rule; a nearly full column gets not
null; a column mapped to a data element with a code table gets membership in that table; an
ID-like column with all values distinct gets uniqueness; a table the catalog describes with a
regular update cycle gets freshness; every table gets the row-count change rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog.models import DataElement
from datapolis.catalog.profiles import ColumnProfile, get_profile
from datapolis.quality import service
from datapolis.quality.rules import RuleError, kind
from datapolis.quality.schemas import Suggestion

SHAPE_SHARE = 0.8  # share of present values with the pattern
FULL_SHARE = 0.95  # share of rows present for "not null"
_BY_PATTERN = {"resident_id": "resident_id", "credit_code": "credit_code", "mobile": "mobile"}
_TEXT_TYPES = ("VARCHAR", "TEXT", "CHAR", "STRING")


def suggest(session: Session, table: str) -> list[Suggestion]:
    """Rules worth having on `table`, minus the ones it already has."""
    profile = get_profile(session, table)
    found: list[Suggestion] = []
    if profile is not None:
        for column in profile.columns:
            found += _for_column(session, column, profile.row_count)
    try:
        hours = service.catalog_max_age(session, table)
    except RuleError:
        hours = None
    if hours is not None:
        found.append(_make("freshness", [], {"cycle": "catalog"},
                           f"the catalog declares an update cycle: late after {hours:g} h"))
    found.append(_make("row_count", [], {"max_change": 0.5},
                       "a load that halves or doubles the table is suspicious"))
    have = {(r.kind, tuple(r.columns)) for r in service.list_rules(session, table)}
    return [s for s in found if (s.kind, tuple(s.columns)) not in have]


def _make(rule_kind: str, columns: list[str], params: dict[str, Any], reason: str
          ) -> Suggestion:
    return Suggestion(kind=rule_kind, columns=columns, params=params,
                      dimension=kind(rule_kind).dimension, reason=reason)


def _for_column(session: Session, column: ColumnProfile, rows: int) -> list[Suggestion]:
    out: list[Suggestion] = []
    name = column.column_name
    if name.startswith("_"):  # highway bookkeeping (_deleted, _deleted_at)
        return out
    shares = column.pattern_shares()
    if rows and column.present / rows >= FULL_SHARE:
        out.append(_make("not_null", [name], {},
                         f"{column.present / rows:.0%} of rows have a value"))
    for pattern, rule_kind in _BY_PATTERN.items():
        share = shares.get(pattern, 0.0)
        if share >= SHAPE_SHARE:
            out.append(_make(rule_kind, [name], {}, f"{share:.0%} of values look like {pattern}"))
            if (pattern != "mobile" and column.distinct_exact and column.distinct_count is not None
                    and column.distinct_count >= column.present * 0.99):
                out.append(_make("unique", [name], {}, "identifiers should not repeat"))
    if (shares.get("date", 0.0) >= SHAPE_SHARE
            and column.data_type.upper().startswith(_TEXT_TYPES)):
        out.append(_make("date", [name], {}, f"{shares['date']:.0%} of values are dates as text"))
    for element in _elements(session, column):
        if element.code_table is not None:
            out.append(_make("in_set", [name], {"code_table": element.code_table.code},
                             f"mapped to {element.name}, coded by {element.code_table.name}"))
            break
    return out


def _elements(session: Session, column: ColumnProfile) -> list[DataElement]:
    codes = [s.get("element_code") for s in column.suggestions[:1] if s.get("element_code")]
    if not codes:
        return []
    return list(session.scalars(select(DataElement).where(DataElement.code.in_(codes))))
