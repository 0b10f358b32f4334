"""The adapter: a catalog entry as a search document (its text fields and facet values)."""

from __future__ import annotations

import re

from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.search.documents import Document
from datapolis.security.grades import parse_grade, rank

# Facets a user filters and counts by, in the order a page shows them.
FACETS = ("provider", "catalog_type", "share_type", "open", "update_cycle", "grade", "status")
# Facets only the visibility rule uses.
HIDDEN_FACETS = ("provider_id",)
OPEN, NOT_OPEN = "open", "not_open"
NO_GRADE = "none"

_NUMBER = re.compile(r"\d+")


def grade_rank(grade: str) -> tuple[int, str]:
    """Order of security grades: the vocabulary's (核心 > 重要 > L4 … L1), then by the code."""
    known = parse_grade(grade)
    if known is not None:
        return (rank(known), grade)
    number = _NUMBER.search(grade)
    return (int(number.group()) if number else -1, grade)


def highest_grade(grades: list[str | None]) -> str:
    given = [grade.strip() for grade in grades if grade and grade.strip()]
    return max(given, key=grade_rank) if given else NO_GRADE


def document_of(entry: CatalogEntry) -> Document:
    items = [item.name for item in entry.items]
    items += [item.column_name for item in entry.items if item.column_name]
    return Document(
        id=entry.id,
        fields={
            "name": entry.name,
            "code": entry.resource_code,
            "tags": list(entry.tags or []),
            "items": items,
            "summary": entry.summary or "",
        },
        facets={
            "provider": entry.provider.code,
            "catalog_type": entry.catalog_type.value,
            "share_type": entry.share_type.value,
            "open": OPEN if entry.open_to_public else NOT_OPEN,
            "update_cycle": entry.update_cycle.value,
            "grade": highest_grade([item.security_grade for item in entry.items]),
            "status": entry.status.value,
            "provider_id": str(entry.provider_id),
        },
    )
