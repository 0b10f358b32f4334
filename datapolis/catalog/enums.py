"""The catalog's coded vocabularies: stable codes, with English msgids as labels.

Labels are translated where they are shown (`_(label)` in templates); the codes are what the
registry, the API and exports carry.
"""

from __future__ import annotations

import enum

from datapolis.web.i18n import N_


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"  # 上架
    RETIRED = "retired"  # 下架


# Auto-registration files a new table under 项 99 / 目 999 until a person classifies it;
# rule R50 keeps such an entry from publication.
UNCLASSIFIED_SUBJECT, UNCLASSIFIED_HEADING = "99", "999"


class CatalogType(enum.StrEnum):
    BASIC_POPULATION = "basic_population"
    BASIC_LEGAL_ENTITY = "basic_legal_entity"
    BASIC_GEOSPATIAL = "basic_geospatial"
    BASIC_CREDIT = "basic_credit"
    BASIC_LICENCE = "basic_licence"
    THEME = "theme"
    DEPARTMENT = "department"


class ShareType(enum.StrEnum):
    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_SHARED = "not_shared"


class ShareMethod(enum.StrEnum):
    INTERFACE = "interface"  # 接口
    TABLES = "tables"  # 库表
    FILE = "file"  # 文件


class UpdateCycle(enum.StrEnum):
    REALTIME = "realtime"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    TEN_DAYS = "ten_days"  # 旬
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"


class FormatClass(enum.StrEnum):
    ELECTRONIC_FILE = "electronic_file"
    SPREADSHEET = "spreadsheet"
    DATABASE = "database"
    IMAGE = "image"
    STREAMING = "streaming"
    SELF_DESCRIBING = "self_describing"
    OTHER = "other"


class DataType(enum.StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    BINARY = "binary"


# One flat table: codes are unique across the vocabularies (a test checks), so a template can
# look up a stored plain string as well as an enum member.
LABELS: dict[enum.StrEnum, str] = {
    EntryStatus.DRAFT: N_("Draft"),
    EntryStatus.SUBMITTED: N_("Submitted for review"),
    EntryStatus.APPROVED: N_("Approved"),
    EntryStatus.REJECTED: N_("Rejected"),
    EntryStatus.PUBLISHED: N_("Published"),
    EntryStatus.RETIRED: N_("Retired"),
    CatalogType.BASIC_POPULATION: N_("Basic: population"),
    CatalogType.BASIC_LEGAL_ENTITY: N_("Basic: legal entities"),
    CatalogType.BASIC_GEOSPATIAL: N_("Basic: natural resources and geospatial"),
    CatalogType.BASIC_CREDIT: N_("Basic: social credit"),
    CatalogType.BASIC_LICENCE: N_("Basic: electronic licences"),
    CatalogType.THEME: N_("Thematic"),
    CatalogType.DEPARTMENT: N_("Departmental"),
    ShareType.UNCONDITIONAL: N_("Shared unconditionally"),
    ShareType.CONDITIONAL: N_("Shared on conditions"),
    ShareType.NOT_SHARED: N_("Not shared"),
    ShareMethod.INTERFACE: N_("Interface"),
    ShareMethod.TABLES: N_("Database tables"),
    ShareMethod.FILE: N_("Files"),
    UpdateCycle.REALTIME: N_("Real time"),
    UpdateCycle.HOURLY: N_("Hourly"),
    UpdateCycle.DAILY: N_("Daily"),
    UpdateCycle.WEEKLY: N_("Weekly"),
    UpdateCycle.TEN_DAYS: N_("Every ten days"),
    UpdateCycle.MONTHLY: N_("Monthly"),
    UpdateCycle.QUARTERLY: N_("Quarterly"),
    UpdateCycle.HALF_YEARLY: N_("Half-yearly"),
    UpdateCycle.YEARLY: N_("Yearly"),
    UpdateCycle.IRREGULAR: N_("Irregularly"),
    FormatClass.ELECTRONIC_FILE: N_("Electronic documents"),
    FormatClass.SPREADSHEET: N_("Spreadsheets"),
    FormatClass.DATABASE: N_("Database"),
    FormatClass.IMAGE: N_("Graphics and images"),
    FormatClass.STREAMING: N_("Streaming media"),
    FormatClass.SELF_DESCRIBING: N_("Self-describing format"),
    FormatClass.OTHER: N_("Other"),
    DataType.STRING: N_("Character"),
    DataType.INTEGER: N_("Integer"),
    DataType.DECIMAL: N_("Decimal"),
    DataType.DATE: N_("Date"),
    DataType.DATETIME: N_("Date and time"),
    DataType.BOOLEAN: N_("Boolean"),
    DataType.BINARY: N_("Binary"),
}

# The 类 (first digit of the classification) of each catalog type, and for the five basic
# resource libraries their fixed 项 (the next two digits), as in the national compilation guide.
CLASS_OF: dict[CatalogType, tuple[str, str | None]] = {
    CatalogType.BASIC_POPULATION: ("1", "01"),
    CatalogType.BASIC_LEGAL_ENTITY: ("1", "02"),
    CatalogType.BASIC_GEOSPATIAL: ("1", "03"),
    CatalogType.BASIC_CREDIT: ("1", "04"),
    CatalogType.BASIC_LICENCE: ("1", "05"),
    CatalogType.THEME: ("2", None),
    CatalogType.DEPARTMENT: ("3", None),
}


VOCABULARIES: tuple[type[enum.StrEnum], ...] = (
    EntryStatus, CatalogType, ShareType, ShareMethod, UpdateCycle, FormatClass, DataType
)
