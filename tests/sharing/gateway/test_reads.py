"""An answer of a page cuts its rows before any method runs, and answers what the whole
de-identified read would have, in key order."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from datapolis.security import deid
from datapolis.security.deid import Plan, Rule
from datapolis.security.deid.keys import Pseudonyms
from datapolis.sharing.gateway import reads
from datapolis.warehouse import DuckDBEngine

ROWS = 50_000  # many of DuckDB's vectors, so an uncut scan hands the Top-N far more rows
KEY = deid.release_key("test-secret", "reads")
PLAN = Plan((Rule("id"), Rule("sfzh", "pseudonym"), Rule("xm", "mask"),
             Rule("sr", "mask")), key=KEY)


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    engine.create_schema("ods")
    engine.execute(f"CREATE TABLE ods.person AS SELECT (({ROWS} - i) * 7919) % {ROWS} AS id, "
                   "'3713021980' || lpad(i::VARCHAR, 8, '0') AS sfzh, '张' || i AS xm, "
                   f"1000.5 + i AS sr FROM range({ROWS}) t(i)")
    yield engine
    engine.close()


def view(engine: DuckDBEngine) -> reads.View:
    types = {column.name: column.type for column in engine.columns("ods.person")}
    return reads.View(0, "ods.person", "id", PLAN, types, None, (), False)


def test_a_page_calls_the_key_function_only_for_its_own_rows(
        engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[int] = []
    original = Pseudonyms.__call__

    def counted(self: Pseudonyms, column: pa.Array) -> pa.Array:
        hashed.append(len(column))
        return original(self, column)

    monkeypatch.setattr(Pseudonyms, "__call__", counted)
    rows = reads.read(engine, view(engine), PLAN, ['"id" > ?'], [ROWS // 2], limit=100)
    assert [row["id"] for row in rows] == list(range(ROWS // 2 + 1, ROWS // 2 + 101))
    assert sum(hashed) == 100


def test_pages_answer_the_whole_read_in_key_order(engine: DuckDBEngine) -> None:
    whole = {row["id"]: row for row in deid.read(engine, "ods.person", PLAN).to_pylist()}
    shape = view(engine)
    seen: list[int] = []
    last = -1
    while len(seen) < 3_000:
        page = reads.read(engine, shape, PLAN, ['"id" > ?'], [last], limit=1_000)
        for row in page:
            assert row.pop(reads.KEY_ALIAS) == row["id"]
            assert row == whole[row["id"]]  # the pseudonym, both masks: as the whole read
        seen += [row["id"] for row in page]
        last = seen[-1]
    assert seen == list(range(3_000))
