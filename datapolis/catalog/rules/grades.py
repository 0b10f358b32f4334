"""Security grades of information items, in the vocabulary of the security capability.

General data is graded L1 (不敏感) to L4 (敏感): L1 may be opened to the public, L2 and L3 only
de-identified and by application, L4 never. Until the security slice lands, an item's grade is
a plain code; `L3`, `l3`, `3` and `三级` all read as L3.
"""

from __future__ import annotations

import re

GRADES = ("L1", "L2", "L3", "L4")
OPENABLE = "L1"
NEVER_OPEN = "L4"
_CHINESE = {"一": "1", "二": "2", "三": "3", "四": "4"}
_GRADE = re.compile(r"^(?:L|l)?([1-4])(?:级)?$")


def parse_grade(code: str | None) -> str | None:
    """`L1`..`L4` for a recognisable grade, None for no grade or one not understood."""
    if code is None:
        return None
    text = code.strip()
    if len(text) == 2 and text[0] in _CHINESE and text[1] == "级":
        text = _CHINESE[text[0]]
    found = _GRADE.match(text)
    return f"L{found[1]}" if found else None


def rank(grade: str) -> int:
    return GRADES.index(grade) + 1
