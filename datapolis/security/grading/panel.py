"""What the grading panel on a catalog entry page shows (the catalog's page calls this)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry
from datapolis.security.classify import DETECTORS, NONE
from datapolis.security.grades import GRADES, ORDER
from datapolis.security.grading import scheme, service


def grade_choices() -> list[tuple[str, str, str]]:
    """(code, Chinese label, English label), highest grade first."""
    return [(code, GRADES[code].name_zh, GRADES[code].name_en) for code in reversed(ORDER)]


def kind_labels() -> dict[str, tuple[str, str]]:
    labels = {kind: (d.name_zh, d.name_en) for kind, d in DETECTORS.items()}
    labels[NONE] = ("无敏感特征", "nothing sensitive found")
    return labels


def panel_context(session: Session, entry: CatalogEntry, *, can_confirm: bool) -> dict[str, Any]:
    return {
        "grading": service.entry_grading(session, entry),
        "grading_can_confirm": can_confirm,
        "grading_sectors": scheme.list_sectors(session),
        "grade_choices": grade_choices(),
        "grade_names": {code: (zh, en) for code, zh, en in grade_choices()},
        "kind_labels": kind_labels(),
    }
