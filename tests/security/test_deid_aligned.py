"""Aligned pseudonym columns: kept in the source's row order, read by position, rebuilt or
extended when the source changes, and correct while it changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyarrow as pa
import pytest

from datapolis.security import deid
from datapolis.security.crypto import hmac_sm3
from datapolis.security.deid import DeidError, Plan, Rule, aligned
from datapolis.security.deid.plans import UDF_ROWS
from datapolis.warehouse import DuckDBEngine

KEY = b"k" * 32
PEOPLE = "ods_t.people"
IDS = ["371302199001011234", "371302198512315678", None, "", "371302199001011234",
       "37130220010101002X", "张三", "371302199001011234"]


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    engine.execute("CREATE SCHEMA ods_t")
    # `raw` repeats the ID number in the clear, so every row of a read can be checked alone.
    engine.write(PEOPLE, pa.table({"id": pa.array(range(1, 9), pa.int64()),
                                   "sfzh": IDS, "raw": IDS}))
    yield engine
    engine.close()


def plan() -> Plan:
    return Plan((Rule("id"), Rule("raw"), Rule("sfzh", "pseudonym")), key=KEY)


def pseudonym(value: str | None) -> str | None:
    return None if value is None else hmac_sm3(KEY, value.encode()).hex()[:32]


def check_rows(table: pa.Table) -> None:
    """Every row's pseudonym is its own value's: nothing shifted, nothing stale."""
    rows = table.to_pylist()
    assert [r["sfzh"] for r in rows] == [pseudonym(r["raw"]) for r in rows]


def ensure(engine: DuckDBEngine) -> aligned.Aligned:
    return aligned.ensure(engine, KEY, PEOPLE, "sfzh")


def test_an_aligned_column_follows_the_source_row_for_row(engine: DuckDBEngine) -> None:
    built = ensure(engine)
    assert (built.action, built.rows) == ("rebuilt", 8)
    assert ensure(engine).action == "unchanged"
    stored = engine.query(f"SELECT r, pseudonym FROM {built.table}").to_pylist()
    rowids = engine.query(f"SELECT rowid FROM {PEOPLE}").column(0).to_pylist()
    assert [r["r"] for r in stored] == rowids
    assert [r["pseudonym"] for r in stored] == [pseudonym(v) for v in IDS]
    # The whole read keeps the table's order, and equals the joined and the function paths.
    full = deid.read(engine, PEOPLE, plan())
    assert full.column("id").to_pylist() == list(range(1, 9))
    check_rows(full)
    engine.execute(f"CREATE VIEW ods_t.people_v AS SELECT * FROM {PEOPLE}")
    joined = deid.read(engine, "ods_t.people_v", plan()).sort_by("id")
    small = deid.read(engine, PEOPLE, plan(), limit=UDF_ROWS).sort_by("id")
    assert full.equals(joined) and full.equals(small)
    streamed = pa.Table.from_batches(list(deid.read_batches(engine, PEOPLE, plan(),
                                                            batch_size=3)))
    assert streamed.equals(full)


def test_an_update_in_place_rebuilds(engine: DuckDBEngine) -> None:
    ensure(engine)
    engine.execute(f"UPDATE {PEOPLE} SET sfzh = '110101200001010011', "
                   "raw = '110101200001010011' WHERE id = 2")
    assert ensure(engine).action == "rebuilt"
    check_rows(deid.read(engine, PEOPLE, plan()))
    # A read finds a change itself, rebuilds, and leaves the column current.
    engine.execute(f"UPDATE {PEOPLE} SET sfzh = 'y', raw = 'y' WHERE id = 4")
    check_rows(deid.read(engine, PEOPLE, plan()))
    assert ensure(engine).action == "unchanged"


def test_several_aligned_columns_are_read_side_by_side(engine: DuckDBEngine) -> None:
    both = Plan((Rule("sfzh", "pseudonym"), Rule("id"), Rule("raw", "pseudonym")), key=KEY)
    only = Plan((Rule("raw", "pseudonym"), Rule("sfzh", "pseudonym")), key=KEY)
    for each in (both, only):
        read = deid.read(engine, PEOPLE, each)
        assert read.column_names == each.columns
        assert read.column("sfzh").to_pylist() == [pseudonym(v) for v in IDS]
        assert read.column("raw").to_pylist() == [pseudonym(v) for v in IDS]
    sql = deid.deidentified_select(PEOPLE, both, deid.plans.prepare(engine, PEOPLE, both,
                                                                    beside=True))
    assert engine.query(sql).equals(deid.read(engine, PEOPLE, both))


def test_a_delete_and_reinsert_of_the_same_value_rebuilds(engine: DuckDBEngine) -> None:
    before = ensure(engine)
    values = f"SELECT count(sfzh), sum(hash(sfzh)) FROM {PEOPLE}"
    counted = engine.query(values).to_pylist()
    # Row 2 moves to the end: the same values, the same count and value checksum...
    engine.execute(f"DELETE FROM {PEOPLE} WHERE id = 2")
    engine.write(PEOPLE, pa.table({"id": pa.array([2], pa.int64()),
                                   "sfzh": [IDS[1]], "raw": [IDS[1]]}))
    assert engine.query(values).to_pylist() == counted
    # ...but not the same order: the order-sensitive checksum sees it.
    after = ensure(engine)
    assert (after.table, after.action) == (before.table, "rebuilt")
    read = deid.read(engine, PEOPLE, plan())
    assert read.column("id").to_pylist() == [1, 3, 4, 5, 6, 7, 8, 2]
    check_rows(read)


def test_appended_rows_extend_the_column_without_a_rebuild(engine: DuckDBEngine) -> None:
    ensure(engine)
    engine.write(PEOPLE, pa.table({"id": pa.array([9, 10], pa.int64()),
                                   "sfzh": ["371302200202020202", None],
                                   "raw": ["371302200202020202", None]}))
    grown = ensure(engine)
    assert (grown.action, grown.rows) == ("appended", 2)
    assert engine.count(f"SELECT count(*) FROM {grown.table}") == 10
    assert ensure(engine).action == "unchanged"
    read = deid.read(engine, PEOPLE, plan())
    assert read.column("id").to_pylist() == list(range(1, 11))
    check_rows(read)
    # A change before the appended rows is not an append.
    engine.execute(f"DELETE FROM {PEOPLE} WHERE id = 1")
    engine.write(PEOPLE, pa.table({"id": pa.array([11], pa.int64()),
                                   "sfzh": ["x"], "raw": ["x"]}))
    assert ensure(engine).action == "rebuilt"
    check_rows(deid.read(engine, PEOPLE, plan()))


def test_rows_written_after_the_check_still_get_their_own_pseudonyms(
        engine: DuckDBEngine) -> None:
    sources = deid.plans.prepare(engine, PEOPLE, plan(), beside=True)
    # Writes land between the check and the read: a delete shifts every later row, an
    # update changes a value in place, an insert adds a value no pseudonym table holds.
    engine.execute(f"DELETE FROM {PEOPLE} WHERE id = 3")
    engine.execute(f"UPDATE {PEOPLE} SET sfzh = 'new', raw = 'new' WHERE id = 7")
    engine.write(PEOPLE, pa.table({"id": pa.array([9], pa.int64()),
                                   "sfzh": ["371302200303030303"],
                                   "raw": ["371302200303030303"]}))
    stale = engine.query(deid.deidentified_select(PEOPLE, plan(), sources))
    assert stale.column("id").to_pylist() == [1, 2, 4, 5, 6, 7, 8, 9]
    check_rows(stale)


def test_pages_are_ordered_by_a_kept_column_on_every_path(engine: DuckDBEngine) -> None:
    engine.write(PEOPLE, pa.table({"id": pa.array([0], pa.int64()), "sfzh": ["z"],
                                   "raw": ["z"]}))  # out of order in the table
    for limit in (3, UDF_ROWS + 1):  # the function path and the aligned path
        page = deid.read(engine, PEOPLE, plan(), order_by=["id"], limit=limit, offset=3)
        assert page.column("id").to_pylist()[:3] == [3, 4, 5]
        check_rows(page)
    ordered = pa.Table.from_batches(list(deid.read_batches(engine, PEOPLE, plan(),
                                                           order_by=["id"])))
    assert ordered.column("id").to_pylist() == list(range(9))
    check_rows(ordered)
    with pytest.raises(DeidError, match=r"cannot order by .sfzh.: .* unchanged \(id, raw\)"):
        deid.read(engine, PEOPLE, plan(), order_by=["sfzh"], limit=5)
    with pytest.raises(DeidError, match="limit and offset of 0 or more"):
        deid.read(engine, PEOPLE, plan(), order_by=["id"], limit=5, offset=-1)


def test_reads_during_writes_and_rebuilds_are_each_consistent(engine: DuckDBEngine) -> None:
    errors: list[BaseException] = []
    results: list[pa.Table] = []
    done = threading.Event()

    def write() -> None:
        try:
            for n in range(12):
                value = f"3713022000{n:08d}"
                if n % 3 == 0:
                    engine.execute(f"UPDATE {PEOPLE} SET sfzh = ?, raw = ? WHERE id = 1",
                                   [value, value])
                elif n % 3 == 1:
                    engine.write(PEOPLE, pa.table({"id": pa.array([100 + n], pa.int64()),
                                                   "sfzh": [value], "raw": [value]}))
                else:
                    engine.execute(f"DELETE FROM {PEOPLE} WHERE id = ?", [100 + n - 1])
                # Let the readers find the change and rebuild before the next write lands.
                seen = len(results)
                for _ in range(500):
                    if len(results) >= seen + 3:
                        break
                    done.wait(0.01)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set():
                results.append(deid.read(engine, PEOPLE, plan()))
                results.append(pa.Table.from_batches(
                    list(deid.read_batches(engine, PEOPLE, plan()))))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write), *(threading.Thread(target=read)
                                                 for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results
    for table in results:
        check_rows(table)
    final = deid.read(engine, PEOPLE, plan())
    check_rows(final)
    assert ensure(engine).action == "unchanged"
