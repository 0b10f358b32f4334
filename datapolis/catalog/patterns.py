"""Value patterns: what a column's values look like (resident IDs, credit codes, phones...).

A data element names the pattern its values follow (`DataElement.value_pattern`); mapping
suggestions test sample values against it. Patterns are a registry of small plugins and the
built-ins register themselves the same way an outside one would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from stdnum.cn import uscc

from datapolis.web.i18n import N_


@dataclass(frozen=True)
class ValuePattern:
    name: str
    label: str  # English msgid
    matches: Callable[[str], bool]
    strength: float  # how much a full match says about the element (0..1)
    # The shape in RE2 syntax (no checksum), counted over whole columns in the warehouse's SQL
    # by catalog/profiling.py; None: the pattern is not profiled.
    shape: str | None = None


PATTERNS: dict[str, ValuePattern] = {}


def register(pattern: ValuePattern) -> ValuePattern:
    PATTERNS[pattern.name] = pattern
    return pattern


def share_matching(pattern: ValuePattern, values: Iterable[str]) -> float:
    """The fraction of the non-blank `values` that follow `pattern` (0 when there are none)."""
    present = [value.strip() for value in values if value and value.strip()]
    if not present:
        return 0.0
    return sum(1 for value in present if pattern.matches(value)) / len(present)


_MOBILE = re.compile(r"^(?:\+?86[- ]?)?1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff·・]+")
_DATE = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?(?:[ T].*)?$")


_RESIDENT_ID = re.compile(r"^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dXx]$")
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def _is_resident_id(value: str) -> bool:
    """GB 11643: 18 characters, a real birth date and the ISO 7064 MOD 11-2 check character.

    The six-digit place of issue is not looked up: IDs keep the division code of the year they
    were issued, and divisions are renamed and merged (Linyi's counties were 3728xx once).
    """
    found = _RESIDENT_ID.match(value)
    if found is None:
        return False
    try:
        date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    return value[17].upper() == "10X98765432"[total % 11]


def _is_date(value: str) -> bool:
    found = _DATE.match(value)
    if found is None:
        return False
    try:
        date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return False
    return True


register(ValuePattern("resident_id", N_("resident ID numbers (GB 11643)"),
                      _is_resident_id, 0.9, shape=r"\d{17}[\dXx]"))
register(ValuePattern("credit_code", N_("unified social credit codes (GB 32100)"),
                      lambda value: bool(uscc.is_valid(value)), 0.9,
                      shape=r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"))
register(ValuePattern("mobile", N_("mobile phone numbers"),
                      lambda value: _MOBILE.match(value) is not None, 0.8,
                      shape=r"(?:\+?86[- ]?)?1[3-9]\d{9}"))
register(ValuePattern("email", N_("e-mail addresses"),
                      lambda value: _EMAIL.match(value) is not None, 0.8,
                      shape=r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"))
# Many elements are dates; a date says little about which one.
register(ValuePattern("date", N_("dates"), _is_date, 0.35,
                      shape=r"\d{4}[-/.年]?\d{1,2}[-/.月]?\d{1,2}日?(?:[ T].*)?"))
# Shapes that say what a column holds without pointing at one element.
register(ValuePattern("digits", N_("digits only"), str.isdigit, 0.0, shape=r"\d+"))
register(ValuePattern("chinese_text", N_("Chinese text"),
                      lambda value: _HAN.fullmatch(value) is not None, 0.0,
                      shape=r"[\p{Han}·・]+"))
