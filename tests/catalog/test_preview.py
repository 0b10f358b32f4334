"""An entry's lineage and sample rows, masked by item grade in the SQL that reads them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from datapolis.catalog import preview, service
from datapolis.catalog.schemas import ItemInput
from datapolis.warehouse import DuckDBEngine
from tests.catalog.conftest import Seeded, create
from tests.web.forms import HTML, login

ITEMS = [
    ItemInput(name="姓名", column_name="xm", length=30, security_grade="L1"),
    ItemInput(name="公民身份号码", column_name="gmsfhm", length=18, security_grade="L3"),
    ItemInput(name="联系电话", column_name="lxdh", length=11, security_grade="L4"),
    ItemInput(name="住址", column_name="zz", length=100),  # no grade yet
    ItemInput(name="曾用名", column_name="cym", length=30, security_grade="1"),  # not in ods
]


def people(engine: DuckDBEngine) -> None:
    engine.execute("CREATE SCHEMA IF NOT EXISTS ods_371300_gaj")
    engine.write("ods_371300_gaj.czrk", pa.table({
        "xm": ["张三", "李四", "王五"],
        "gmsfhm": ["371302199001011234", None, "37"],
        "lxdh": ["13800000000", "13900000000", "13700000000"],
        "zz": ["兰山区", "罗庄区", "河东区"],
        "_deleted": [False, False, True],
    }))


@pytest.mark.parametrize(("grade", "expected"), [
    ("L1", "shown"), ("1", "shown"), ("l2", "masked"), ("3", "masked"), ("三级", "masked"),
    ("L4", "hidden"),
    ("核心", "hidden"), (None, "hidden"), ("", "hidden"),
])
def test_treatment_follows_the_grade(grade: str | None, expected: str) -> None:
    assert preview.treatment(grade) == expected


def test_sample_masks_in_sql_and_never_reads_hidden_items(
    seeded: Seeded, tmp_path: Path
) -> None:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    people(engine)
    with seeded.registry.session() as session:
        code = create(session, items=ITEMS)
        entry = service.get_entry(session, code)
        sample = preview.sample(engine, entry)
    engine.close()
    assert sample is not None and sample.table == "ods_371300_gaj.czrk"
    by_item = {c.item: c for c in sample.columns}
    assert [c.treatment for c in sample.columns] == ["shown", "masked", "hidden", "hidden",
                                                     "shown"]
    assert by_item["曾用名"].missing and not by_item["姓名"].missing
    # The soft-deleted third row stays out; hidden and missing columns hold nothing.
    assert sample.rows == [
        ["张三", "3****************4", None, None, None],
        ["李四", None, None, None, None],
    ]


def test_no_table_no_sample(seeded: Seeded, tmp_path: Path) -> None:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session, items=ITEMS))
        assert preview.sample(engine, entry) is None  # the table has not landed yet
        assert preview.lineage(session, entry) == []
    engine.close()


def test_the_entry_page_shows_lineage_and_masked_rows(seeded_client: TestClient) -> None:
    app = seeded_client.app
    people(app.state.warehouse)  # type: ignore[attr-defined]
    with app.state.registry.session() as session:  # type: ignore[attr-defined]
        code = create(session, items=ITEMS)
    login(seeded_client, "org_user")
    page = seeded_client.get(f"/catalog/entries/{code}", headers=HTML).text
    assert "样例数据" in page and "数据血缘" in page and "尚无同步任务汇入此表" in page
    assert "张三" in page and "3****************4" in page
    assert "371302199001011234" not in page and "13800000000" not in page
