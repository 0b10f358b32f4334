"""Security grades of information items: the security capability's vocabulary, re-exported.

The catalog and its rules read grades here so that they and the de-identification policy agree
on one vocabulary (datapolis/security/grades.py): 核心 > 重要 > L4 > L3 > L2 > L1.
"""

from __future__ import annotations

from datapolis.security.grades import (
    CORE,
    GENERAL,
    IMPORTANT,
    NEVER_OPEN,
    ON_APPLICATION,
    OPENABLE,
    ORDER,
    UnknownGrade,
    highest,
    parse_grade,
    rank,
    require_grade,
)

GRADES = GENERAL  # the general grades L1..L4, lowest first

__all__ = ["CORE", "GENERAL", "GRADES", "IMPORTANT", "NEVER_OPEN", "ON_APPLICATION", "OPENABLE",
           "ORDER", "UnknownGrade", "highest", "parse_grade", "rank", "require_grade"]
