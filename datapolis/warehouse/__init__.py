"""The warehouse: the resource base itself, in layers, behind one narrow Engine interface."""

from datapolis.warehouse.duckdb_engine import DuckDBEngine
from datapolis.warehouse.engine import ColumnInfo, Engine, MergeResult, TableInfo, WarehouseError
from datapolis.warehouse.layers import LAYERS, ensure_layers, layer_summary, ods_schema

__all__ = [
    "LAYERS",
    "ColumnInfo",
    "DuckDBEngine",
    "Engine",
    "MergeResult",
    "TableInfo",
    "WarehouseError",
    "ensure_layers",
    "layer_summary",
    "ods_schema",
]
