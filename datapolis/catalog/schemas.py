"""What the catalog API reads and writes: XBase / XCreate / XUpdate / XPublic models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from datapolis.catalog.enums import (
    CatalogType,
    DataType,
    EntryStatus,
    FormatClass,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from datapolis.catalog.models import CatalogEntry, CodeTable, DataElement, EntryVersion, InfoItem

_STRICT = ConfigDict(extra="forbid")  # a misspelt field is a 422, not silently ignored


# --- items ---------------------------------------------------------------------------------


class ItemBase(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="信息项名称")
    column_name: str | None = Field(None, max_length=128, description="Physical column, if any.")
    data_type: DataType = DataType.STRING
    length: int | None = Field(None, ge=0)
    description: str | None = None
    security_grade: str | None = Field(None, max_length=16, description="Plain grade code.")


class ItemInput(ItemBase):
    model_config = _STRICT

    element_code: str | None = Field(None, description="Code of the data element it maps to.")


class ItemPublic(ItemBase):
    element_code: str | None
    element_name: str | None
    mapped_by: str | None
    mapped_at: datetime | None

    @classmethod
    def of(cls, item: InfoItem) -> ItemPublic:
        return cls(
            name=item.name, column_name=item.column_name, data_type=item.data_type,
            length=item.length, description=item.description,
            security_grade=item.security_grade,
            element_code=item.element.code if item.element is not None else None,
            element_name=item.element.name if item.element is not None else None,
            mapped_by=item.mapped_by, mapped_at=item.mapped_at,
        )


# --- entries -------------------------------------------------------------------------------


class EntryBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    summary: str = ""
    format_class: FormatClass = FormatClass.DATABASE
    format_detail: str | None = Field(None, max_length=100, description="e.g. xlsx, PostgreSQL")
    share_type: ShareType = ShareType.CONDITIONAL
    share_conditions: str | None = None
    share_methods: list[ShareMethod] = []
    open_to_public: bool = False
    open_conditions: str | None = None
    update_cycle: UpdateCycle = UpdateCycle.IRREGULAR
    related_codes: list[str] = []
    classified: bool = Field(False, description="涉密")
    tags: list[str] = []
    record_count: int | None = Field(None, ge=0)
    storage_bytes: int | None = Field(None, ge=0)
    warehouse_table: str | None = Field(
        None, max_length=130, description="The table it describes, e.g. ods_371300_gaj.czrk"
    )


class EntryUpdate(EntryBase):
    """Everything but the classification and provider, which fix the resource code."""

    model_config = _STRICT

    items: list[ItemInput] = []


class EntryCreate(EntryUpdate):
    catalog_type: CatalogType
    subject: str | None = Field(
        None, description="项, 2 digits; fixed for the five basic resource types."
    )
    heading: str = Field(description="目, 3 digits.")
    subheading: str | None = Field(None, description="细目, 3 digits, optional.")
    provider_code: str | None = Field(None, description="Default: the caller's organisation.")
    resource_code: str | None = Field(
        None, description="Only when the entry already has a code (e.g. an older catalog)."
    )


class EntryPublic(EntryBase):
    resource_code: str
    category: str
    subject: str
    heading: str
    subheading: str | None
    catalog_type: CatalogType
    provider_code: str
    provider_name: str
    status: EntryStatus
    publish_date: date | None
    items: list[ItemPublic]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry: CatalogEntry) -> EntryPublic:
        return cls(
            resource_code=entry.resource_code, category=entry.category, subject=entry.subject,
            heading=entry.heading, subheading=entry.subheading, catalog_type=entry.catalog_type,
            provider_code=entry.provider.code, provider_name=entry.provider.name,
            status=entry.status, publish_date=entry.publish_date, name=entry.name,
            summary=entry.summary, format_class=entry.format_class,
            format_detail=entry.format_detail, share_type=entry.share_type,
            share_conditions=entry.share_conditions,
            share_methods=[ShareMethod(m) for m in entry.share_methods],
            open_to_public=entry.open_to_public, open_conditions=entry.open_conditions,
            update_cycle=entry.update_cycle, related_codes=list(entry.related_codes),
            classified=entry.classified, tags=list(entry.tags),
            record_count=entry.record_count, storage_bytes=entry.storage_bytes,
            warehouse_table=entry.warehouse_table,
            items=[ItemPublic.of(item) for item in entry.items],
            created_at=entry.created_at, updated_at=entry.updated_at,
        )


class EntrySummary(BaseModel):
    resource_code: str
    name: str
    catalog_type: CatalogType
    provider_code: str
    provider_name: str
    status: EntryStatus
    share_type: ShareType
    open_to_public: bool
    update_cycle: UpdateCycle
    item_count: int
    updated_at: datetime

    @classmethod
    def of(cls, entry: CatalogEntry) -> EntrySummary:
        return cls(
            resource_code=entry.resource_code, name=entry.name, catalog_type=entry.catalog_type,
            provider_code=entry.provider.code, provider_name=entry.provider.name,
            status=entry.status, share_type=entry.share_type,
            open_to_public=entry.open_to_public, update_cycle=entry.update_cycle,
            item_count=len(entry.items), updated_at=entry.updated_at,
        )


class Comment(BaseModel):
    model_config = _STRICT

    comment: str | None = Field(None, max_length=2000)


class Classification(BaseModel):
    """A new classification for a draft never published; its resource code changes with it."""

    model_config = _STRICT

    catalog_type: CatalogType
    subject: str | None = Field(None, description="项, 2 digits; fixed for the basic types.")
    heading: str = Field(description="目, 3 digits.")
    subheading: str | None = Field(None, description="细目, 3 digits, optional.")


class MappingConfirm(BaseModel):
    model_config = _STRICT

    item: str = Field(description="Name of the information item.")
    element_code: str | None = Field(description="Data element code; null removes the mapping.")


# --- versions ------------------------------------------------------------------------------


class VersionPublic(BaseModel):
    number: int
    action: str
    status: EntryStatus
    comment: str | None
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, version: EntryVersion) -> VersionPublic:
        return cls(number=version.number, action=version.action, status=version.status,
                   comment=version.comment, actor=version.actor, created_at=version.created_at)


class VersionWithSnapshot(VersionPublic):
    snapshot: dict[str, Any]


class FieldChangePublic(BaseModel):
    field: str
    old: Any
    new: Any


class ItemChangePublic(BaseModel):
    name: str
    change: str  # added | removed | changed
    fields: list[FieldChangePublic]


class DiffPublic(BaseModel):
    from_version: int
    to_version: int
    fields: list[FieldChangePublic]
    items: list[ItemChangePublic]


# --- standards -----------------------------------------------------------------------------


class CodeValuePublic(BaseModel):
    code: str
    name: str
    parent_code: str | None
    note: str | None


class CodeTableSummary(BaseModel):
    code: str
    name: str
    english_name: str | None
    standard: str | None
    description: str | None
    value_count: int


class CodeTablePublic(CodeTableSummary):
    values: list[CodeValuePublic]

    @classmethod
    def of(cls, table: CodeTable) -> CodeTablePublic:
        return cls(
            code=table.code, name=table.name, english_name=table.english_name,
            standard=table.standard, description=table.description,
            value_count=len(table.values),
            values=[CodeValuePublic(code=v.code, name=v.name, parent_code=v.parent_code,
                                    note=v.note) for v in table.values],
        )


class ElementPublic(BaseModel):
    code: str
    name: str
    english_name: str | None
    definition: str | None
    data_type: DataType
    length: int | None
    format: str | None
    code_table: str | None
    value_pattern: str | None
    synonyms: list[str]

    @classmethod
    def of(cls, element: DataElement) -> ElementPublic:
        return cls(
            code=element.code, name=element.name, english_name=element.english_name,
            definition=element.definition, data_type=element.data_type, length=element.length,
            format=element.format,
            code_table=element.code_table.code if element.code_table is not None else None,
            value_pattern=element.value_pattern, synonyms=list(element.synonyms),
        )


class SuggestRequest(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200)
    column_name: str | None = None
    samples: list[str] = Field([], max_length=1000)


class ReasonPublic(BaseModel):
    kind: str
    detail: str
    score: float


class SuggestionPublic(BaseModel):
    element_code: str
    element_name: str
    score: float
    reasons: list[ReasonPublic]
