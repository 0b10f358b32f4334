"""The warehouse layers (schemas). Raw rows are never edited in place: each layer can be
rebuilt from the one below."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from datapolis.warehouse.engine import Engine, check_identifier


@dataclass(frozen=True)
class Layer:
    schema: str
    label: str  # English; the UI translates it
    label_zh: str


ODS_PREFIX = "ods_"

# Shared layers in flow order; each provider organisation also gets its own ods_<org> schema.
LAYERS = (
    Layer("std", "Standardised", "治理层"),
    Layer("base", "Base libraries", "基础库"),
    Layer("theme", "Thematic", "主题库"),
    Layer("share", "Sharing views", "共享层"),
)


def ods_schema(org_code: str) -> str:
    """The landing schema (贴源层) of one provider organisation."""
    return check_identifier(ODS_PREFIX + org_code, "ods schema")


def ensure_layers(engine: Engine, ods_org_codes: Iterable[str] = ()) -> list[str]:
    """Create the layer schemas that are missing; returns every layer schema."""
    wanted = [layer.schema for layer in LAYERS] + [ods_schema(c) for c in ods_org_codes]
    for schema in wanted:
        engine.execute(f"CREATE SCHEMA IF NOT EXISTS {check_identifier(schema, 'schema')}")
    return wanted


@dataclass(frozen=True)
class LayerSummary:
    layer: Layer
    schemas: int
    tables: int
    rows: int


ODS_LAYER = Layer("ods", "Landing (per provider)", "贴源层")


def layer_summary(engine: Engine) -> list[LayerSummary]:
    """Tables and estimated rows per layer; every ods_<org> schema counts as one layer."""
    by_layer: dict[str, list[int]] = {}
    for table in engine.tables():
        layer = "ods" if table.schema.startswith(ODS_PREFIX) else table.schema
        by_layer.setdefault(layer, []).append(table.rows or 0)
    ods_schemas = sum(1 for s in engine.schemas() if s.startswith(ODS_PREFIX))
    return [
        LayerSummary(
            layer,
            schemas=ods_schemas if layer is ODS_LAYER else 1,
            tables=len(by_layer.get(layer.schema, [])),
            rows=sum(by_layer.get(layer.schema, [])),
        )
        for layer in (ODS_LAYER, *LAYERS)
    ]
