"""Failing-row samples as a reader may see them: masked by each field's security grade.

The same treatment as the catalog's preview (catalog/preview.py): L1 fields shown, L2–L3 keep
their first and last character, L4, 核心/重要 and ungraded fields hidden. Samples are stored
whole in the registry for the provider's rectification; masking happens on the way out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.preview import Treatment, treatment

HIDDEN = None


def treatments(session: Session, table: str) -> dict[str, Treatment]:
    """How each column of `table` is shown, from its catalog entry's items (none: hidden)."""
    entry = session.scalar(select(CatalogEntry).where(CatalogEntry.warehouse_table == table)
                           .options(selectinload(CatalogEntry.items)).order_by(CatalogEntry.id))
    if entry is None:
        return {}
    return {item.column_name: treatment(item.security_grade) for item in entry.items
            if item.column_name}


def mask_value(value: Any) -> str | None:
    """As deid's mask method with first=1, last=1 does it in SQL."""
    if value is None:
        return None
    text = str(value)
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def masked(sample: list[dict[str, Any]], shown: dict[str, Treatment]
           ) -> tuple[list[dict[str, Any]], list[str]]:
    """The sample with each field treated; and the fields that were masked or hidden.

    Fields the engine adds (a duplicate's `rows`, a comparison's `other`) follow the column
    they describe when there is one, and are shown otherwise."""
    out, touched = [], set()
    for row in sample:
        treated = {}
        for field, value in row.items():
            how = shown.get(field, "hidden") if field not in _ENGINE_FIELDS else "shown"
            if how == "shown":
                treated[field] = value
            else:
                touched.add(field)
                treated[field] = mask_value(value) if how == "masked" else HIDDEN
        out.append(treated)
    return out, sorted(touched)


_ENGINE_FIELDS = {"rows", "_row"}
