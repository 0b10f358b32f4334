"""The demo city's department systems read through the built-in kinds."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from datapolis.demo import build_demo
from datapolis.ingest.sources.registry import open_source


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "city"
    build_demo(out_dir=out, people=300, seed=11)
    return out


def test_every_sqlite_table_reads_with_its_comments(demo: Path) -> None:
    files = sorted((demo / "sources").glob("*.sqlite"))
    assert files
    for path in files:
        source = open_source("sqlite", {"path": str(path)}, {})
        for table in source.tables():
            assert table.comment and table.primary_key
            assert all(column.comment for column in table.columns)
            data = pa.Table.from_batches(source.read(table.name, batch_rows=50),
                                         schema=pa.schema([(c.name, c.arrow_type)
                                                           for c in table.columns]))
            assert data.num_rows == table.rows_estimate
        source.close()
    czrk = open_source("sqlite", {"path": str(demo / "sources" / "gaj_hjxt.sqlite")}, {})
    columns = {c.name: c for c in czrk.columns("czrk")}
    assert columns["gmsfhm"].comment == "公民身份号码"
    assert columns["gmsfhm"].arrow_type == pa.string()
    assert columns["csrq"].arrow_type == pa.date32()


def test_the_gbk_files_of_minzheng(demo: Path) -> None:
    source = open_source("csv", {"path": str(demo / "files" / "mzj")}, {})
    tables = source.tables()
    assert [t.name for t in tables] == ["dibao_202603.csv", "dibao_202604.csv",
                                        "dibao_202605.csv"]
    for table in tables:
        assert table.comment == "CSV, gbk"
        types = {c.name: c.arrow_type for c in table.columns}
        assert types["身份证号码"] == pa.string() and types["联系电话"] == pa.string()
        rows = pa.Table.from_batches(source.read(table.name)).to_pylist()
        assert len(rows) == table.rows_estimate
        assert all(r["户主姓名"] for r in rows)
