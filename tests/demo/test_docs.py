from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from datapolis.demo import DirtRates
from datapolis.demo.schema import DataKind
from datapolis.demo.systems import all_systems

DOC = (Path(__file__).parents[2] / "docs" / "demo.md").read_text(encoding="utf-8")


def test_docs_describe_every_rate_system_table_and_data_kind() -> None:
    defaults = DirtRates()
    for field in fields(DirtRates):
        assert f"| `{field.name}` | {getattr(defaults, field.name)} |" in DOC, field.name
    for system in all_systems().values():
        assert f"`{system.name}`" in DOC and system.department in DOC
        for table in system.tables:
            assert f"`{table.name}`" in DOC or system.files_only
    for kind in DataKind:
        assert kind.value in DOC
