"""The grade vocabulary of 分类分级 (GB/T 43697-2024), in one place, in order.

Data is 核心数据 (core), 重要数据 (important) or 一般数据 (general); general data is graded
L1 不敏感 … L4 敏感. L1 may be opened to the public; L2 and L3 leave only de-identified and by
application; L4 is never opened; core and important data never leave the bureau at all.
The order, highest first: core > important > L4 > L3 > L2 > L1. The catalog, its normalisation
rules and the de-identification policy all read grades through this module.

People write grades in many ways (`L3`, `l3`, `3`, `三级`, `核心数据`); `parse_grade` reads them
all into one code, and `require_grade` refuses anything else with the allowed list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from datapolis.errors import UserError

CORE, IMPORTANT = "core", "important"
GENERAL = ("L1", "L2", "L3", "L4")  # general data, lowest first
ORDER = (*GENERAL, IMPORTANT, CORE)  # every grade, lowest first
OPENABLE = "L1"
NEVER_OPEN = frozenset({"L4", IMPORTANT, CORE})
ON_APPLICATION = frozenset({"L2", "L3"})  # de-identified and by application only


@dataclass(frozen=True)
class GradeInfo:
    code: str
    name_zh: str
    name_en: str
    level: str  # 核心数据 / 重要数据 / 一般数据, in English: core / important / general


GRADES: dict[str, GradeInfo] = {
    "L1": GradeInfo("L1", "一级（不敏感）", "L1 not sensitive", "general"),
    "L2": GradeInfo("L2", "二级（较敏感·低）", "L2 less sensitive (low)", "general"),
    "L3": GradeInfo("L3", "三级（较敏感·中）", "L3 sensitive (medium)", "general"),
    "L4": GradeInfo("L4", "四级（敏感）", "L4 sensitive", "general"),
    IMPORTANT: GradeInfo(IMPORTANT, "重要数据", "important data", IMPORTANT),
    CORE: GradeInfo(CORE, "核心数据", "core data", CORE),
}

_CHINESE_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}
_GENERAL = re.compile(r"^(?:L|l|第)?([1-4一二三四])(?:级)?$")
_WORDS = {
    "core": CORE, "核心": CORE, "核心数据": CORE,
    "important": IMPORTANT, "重要": IMPORTANT, "重要数据": IMPORTANT,
}


class UnknownGrade(UserError):
    """A grade that is none of the vocabulary's."""

    def __init__(self, given: str) -> None:
        allowed = ", ".join(reversed(ORDER))
        super().__init__(f"unknown security grade {given!r}; allowed: {allowed} "
                         "(also written 1–4, 一级–四级, 核心, 重要)")
        self.given = given


def parse_grade(text: str | None) -> str | None:
    """The grade code `text` means, or None for no grade or one not understood."""
    if text is None:
        return None
    cleaned = text.strip()
    if cleaned.lower() in _WORDS:
        return _WORDS[cleaned.lower()]
    found = _GENERAL.match(cleaned)
    if found is None:
        return None
    digit = found[1]
    return f"L{_CHINESE_DIGITS.get(digit, digit)}"


def require_grade(text: str | None) -> str:
    """Like `parse_grade`, but a blank or unknown grade is a UserError naming the allowed ones."""
    grade = parse_grade(text)
    if grade is None:
        raise UnknownGrade("" if text is None else text)
    return grade


def rank(grade: str) -> int:
    """1 for L1 … 4 for L4, 5 important, 6 core."""
    return ORDER.index(grade) + 1


def is_general(grade: str | None) -> bool:
    return grade in GENERAL


def highest(grades: Iterable[str | None]) -> str | None:
    """The highest of the recognisable grades given; None when there is none."""
    known = [g for g in (parse_grade(text) for text in grades) if g is not None]
    return max(known, key=rank) if known else None


def label(grade: str, locale: str = "zh_Hans_CN") -> str:
    info = GRADES[grade]
    return info.name_en if locale == "en" else info.name_zh
