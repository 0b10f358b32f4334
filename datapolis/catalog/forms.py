"""The entry edit form: an entry as form values, and posted form values as API input.

Items are parallel lists of fields (`item_name`, `item_type`, ...), one row per item; rows
without a name are blank rows and are skipped.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from datapolis.catalog.models import CatalogEntry

BLANK_ITEM_ROWS = 3
ITEM_FIELDS = {  # form field -> ItemInput field
    "item_name": "name", "item_column": "column_name", "item_type": "data_type",
    "item_length": "length", "item_description": "description", "item_grade": "security_grade",
    "item_element": "element_code",
}
TEXT_FIELDS = ("name", "summary", "format_class", "format_detail", "share_type",
               "share_conditions", "open_conditions", "update_cycle", "warehouse_table")
CLASSIFICATION_FIELDS = ("catalog_type", "subject", "heading", "subheading", "provider_code",
                         "resource_code")
_SPLIT = re.compile(r"[\s,，;；、]+")


def _blank_item() -> dict[str, str]:
    return {field: "" for field in ITEM_FIELDS.values()} | {"data_type": "string"}


def entry_form(entry: CatalogEntry | None) -> dict[str, Any]:
    """Form values for a new entry (None) or an existing one."""
    if entry is None:
        return {
            "name": "", "summary": "", "format_class": "database", "format_detail": "",
            "share_type": "conditional", "share_conditions": "", "share_methods": [],
            "open_to_public": False, "open_conditions": "", "update_cycle": "daily",
            "warehouse_table": "", "related_codes": "", "tags": "", "classified": False,
            "record_count": "", "storage_bytes": "", "catalog_type": "department",
            "subject": "", "heading": "", "subheading": "", "provider_code": "",
            "resource_code": "", "items": [_blank_item() for _ in range(BLANK_ITEM_ROWS + 2)],
        }
    items = [{
        "name": item.name, "column_name": item.column_name or "",
        "data_type": item.data_type.value, "length": "" if item.length is None else item.length,
        "description": item.description or "", "security_grade": item.security_grade or "",
        "element_code": item.element.code if item.element else "",
    } for item in entry.items]
    return {
        "name": entry.name, "summary": entry.summary, "format_class": entry.format_class.value,
        "format_detail": entry.format_detail or "", "share_type": entry.share_type.value,
        "share_conditions": entry.share_conditions or "",
        "share_methods": list(entry.share_methods), "open_to_public": entry.open_to_public,
        "open_conditions": entry.open_conditions or "", "update_cycle": entry.update_cycle.value,
        "warehouse_table": entry.warehouse_table or "",
        "related_codes": " ".join(entry.related_codes), "tags": " ".join(entry.tags),
        "classified": entry.classified,
        "record_count": "" if entry.record_count is None else entry.record_count,
        "storage_bytes": "" if entry.storage_bytes is None else entry.storage_bytes,
        "items": items + [_blank_item() for _ in range(BLANK_ITEM_ROWS)],
    }


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(text: str) -> int | str | None:
    if not text:
        return None
    return int(text) if text.isdigit() else text  # a non-number is left for validation


def form_values(form: FormData) -> dict[str, Any]:
    """`data` (EntryUpdate input), `classification` (the EntryCreate extras) and `raw`."""
    raw: dict[str, Any] = {name: _text(form, name) for name in TEXT_FIELDS}
    raw.update({name: _text(form, name) for name in CLASSIFICATION_FIELDS})
    raw["share_methods"] = [m for m in form.getlist("share_methods") if isinstance(m, str)]
    raw["open_to_public"] = _text(form, "open_to_public") == "1"
    raw["classified"] = _text(form, "classified") == "1"
    for name in ("related_codes", "tags", "record_count", "storage_bytes"):
        raw[name] = _text(form, name)
    columns = {field: [v if isinstance(v, str) else "" for v in form.getlist(field)]
               for field in ITEM_FIELDS}
    rows = max((len(values) for values in columns.values()), default=0)
    raw["items"] = [
        {ITEM_FIELDS[field]: (columns[field][i].strip() if i < len(columns[field]) else "")
         for field in ITEM_FIELDS}
        for i in range(rows)
    ]
    data: dict[str, Any] = {name: raw[name] or None for name in TEXT_FIELDS}
    data["name"] = raw["name"]
    data["summary"] = raw["summary"]
    for name in ("format_class", "share_type", "update_cycle"):
        if not data[name]:
            del data[name]
    data.update(
        share_methods=raw["share_methods"], open_to_public=raw["open_to_public"],
        classified=raw["classified"],
        related_codes=[c for c in _SPLIT.split(raw["related_codes"]) if c],
        tags=[t for t in _SPLIT.split(raw["tags"]) if t],
        record_count=_number(raw["record_count"]), storage_bytes=_number(raw["storage_bytes"]),
        items=[{key: (_number(value) if key == "length" else value or None)
                for key, value in item.items()} | {"data_type": item["data_type"] or "string"}
               for item in raw["items"] if item["name"]],
    )
    classification = {name: raw[name] or None for name in CLASSIFICATION_FIELDS}
    classification["heading"] = raw["heading"]
    return {"data": data, "classification": classification, "raw": raw}
