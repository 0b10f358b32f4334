"""De-identification methods, plans, k-anonymity and policy, on real DuckDB tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pytest

from datapolis.security import deid
from datapolis.security.crypto import hmac_sm3
from datapolis.security.deid import DeidError, Plan, Rule
from datapolis.warehouse import DuckDBEngine
from datapolis.warehouse.engine import WarehouseError

KEY_A = b"a" * 32
KEY_B = b"b" * 32
TABLE = "ods_t.people"


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    engine.execute("CREATE SCHEMA ods_t")
    engine.write(TABLE, pa.table({
        "id": pa.array([1, 2, 3, 4, 5], pa.int64()),
        "name": ["张三丰", "李四", "王", None, "Ann-Marie"],
        "phone": ["13800001234", "139", None, "", "13700005678"],
        "born": pa.array([date(1990, 5, 6), date(1985, 12, 31), None, date(2001, 1, 1),
                          date(1990, 5, 20)]),
        "age": pa.array([34, 39, None, 0, 101], pa.int64()),
        "addr": ["山东省临沂市兰山区金雀山路12号", "临沂市郯城县红花镇",
                 "广西壮族自治区南宁市青秀区", "北京市朝阳门内大街", "无名路"],
        "income": pa.array([5000.0, 12000.0, None, 800.0, 5000.0]),
    }))
    yield engine
    engine.close()


def column(engine: DuckDBEngine, rule: Rule, key: bytes | None = None,
           limit: int | None = None) -> list[object]:
    """The rule's column in id order: a read joining a pseudonym table keeps no row order."""
    table = deid.read(engine, TABLE, Plan((Rule("id"), rule), key=key, row_id="id"),
                      limit=limit)
    return table.sort_by("id").column(rule.column).to_pylist()


TEXTS = ["张三丰", "李四", "王", "", None, "Ann-Marie", "13800001234", "370102199001011234",
         "山东省临沂市兰山区金雀山路12号", "e\u0301a\u0301b", "👨\u200d👩\u200d👧x", "a'b\"c",
         "x" * 300, "汉" * 70]


@pytest.mark.parametrize("params", [{}, {"first": 0, "last": 0}, {"first": 3, "last": 4},
                                    {"first": 6, "last": 0}, {"first": 0, "last": 2},
                                    {"first": 64, "last": 64, "char": "●"}, {"char": "×"}])
def test_the_mask_on_answered_rows_gives_what_its_sql_gives(params: dict[str, object]) -> None:
    """Small answers mask text after the read (`Method.text_function`): it must agree with
    the SQL on every value, NULL, empty, combining marks and long values included."""
    mask = deid.method("mask")
    engine = DuckDBEngine()
    engine.write("ods_t.texts", pa.table({"n": pa.array(range(len(TEXTS)), pa.int64()),
                                          "v": pa.array(TEXTS, pa.string())}))
    in_sql = engine.query(f"SELECT {mask.expression('v', 'v', params)} AS v "
                          "FROM ods_t.texts ORDER BY n").column("v").to_pylist()
    on_rows = [mask.text_function(params)(value) for value in TEXTS]
    assert on_rows == in_sql
    assert mask.text_function(params)(12345) == engine.query(  # a number, should one come
        f"SELECT {mask.expression('12345', 'v', params)} AS v").column("v")[0].as_py()
    with pytest.raises(DeidError, match="only in SQL"):
        deid.method("date").text_function({})


def test_masking_keeps_first_and_last_and_masks_short_values_whole(engine: DuckDBEngine) -> None:
    assert column(engine, Rule("name", "mask")) == ["张*丰", "**", "*", None, "A*******e"]
    assert column(engine, Rule("phone", "mask", {"first": 3, "last": 4, "char": "#"})) == [
        "138####1234", "###", None, "", "137####5678"]
    assert column(engine, Rule("name", "mask", {"first": 0, "last": 1, "char": "×"})) == [
        "××丰", "×四", "×", None, "××××××××e"]


def test_generalisation_of_dates_numbers_and_addresses(engine: DuckDBEngine) -> None:
    assert column(engine, Rule("born", "date")) == ["1990-05", "1985-12", None, "2001-01",
                                                    "1990-05"]
    assert column(engine, Rule("born", "date", {"unit": "year"})) == [
        "1990", "1985", None, "2001", "1990"]
    assert column(engine, Rule("age", "band", {"width": 5})) == [
        "30-34", "35-39", None, "0-4", "100-104"]
    assert column(engine, Rule("addr", "district")) == [
        "山东省临沂市兰山区", "临沂市郯城县", "广西壮族自治区南宁市青秀区", "北京市", None]
    assert column(engine, Rule("name", "date")) == [None] * 5  # not a date: nothing kept


def test_suppression_and_top_bottom_coding(engine: DuckDBEngine) -> None:
    assert column(engine, Rule("phone", "suppress")) == [None] * 5
    assert column(engine, Rule("age", "clamp", {"low": 18, "high": 90})) == [
        34, 39, None, 18, 90]  # a NULL stays NULL, not a bound


def test_pseudonyms_are_hmac_sm3_equal_within_a_key_and_different_across(
    engine: DuckDBEngine,
) -> None:
    under_a = column(engine, Rule("name", "pseudonym"), KEY_A)
    assert under_a[0] == hmac_sm3(KEY_A, "张三丰".encode()).hex()[:32]
    assert under_a[3] is None
    assert column(engine, Rule("name", "pseudonym"), KEY_A) == under_a
    under_b = column(engine, Rule("name", "pseudonym"), KEY_B)
    assert all(a != b for a, b in zip(under_a, under_b, strict=True) if a is not None)
    # Joins work inside one key: the same value in another table gets the same pseudonym.
    engine.write("ods_t.other", pa.table({"who": ["李四", "赵六"]}))
    other = deid.read(engine, "ods_t.other", Plan((Rule("who", "pseudonym"),), key=KEY_A))
    assert under_a[1] in other.column("who").to_pylist()


def test_noise_is_repeatable_per_key_and_row_and_bounded(engine: DuckDBEngine) -> None:
    uniform = Rule("income", "noise", {"kind": "uniform", "scale": 100, "digits": 2})
    first = column(engine, uniform, KEY_A)
    assert column(engine, uniform, KEY_A) == first
    assert first[2] is None
    truth = [5000.0, 12000.0, None, 800.0, 5000.0]
    for noisy, real in zip(first, truth, strict=True):
        if real is not None:
            assert isinstance(noisy, float) and abs(noisy - real) <= 100 and noisy != real
    assert first[0] != first[4]  # equal values in different rows get different noise
    assert column(engine, uniform, KEY_B) != first
    laplace = column(engine, Rule("income", "noise", {"scale": 50}), KEY_A)
    assert laplace == column(engine, Rule("income", "noise", {"scale": 50}), KEY_A)
    assert all(abs(n - r) < 50 * 38 for n, r in zip(laplace, truth, strict=True)
               if r is not None and isinstance(n, float))


def test_select_quotes_every_column_and_holds_no_user_text(engine: DuckDBEngine) -> None:
    plan = Plan((Rule("name", "mask"), Rule("age")), withheld=("phone",))
    sql = deid.deidentified_select(TABLE, plan)
    assert sql.startswith('SELECT CASE WHEN length(CAST("name" AS VARCHAR))')
    assert sql.endswith('"age" AS "age" FROM "ods_t"."people"')
    assert "phone" not in sql
    with pytest.raises(DeidError, match="nothing of"):
        deid.deidentified_select(TABLE, Plan(()))


@pytest.mark.parametrize(("rule", "message"), [
    (Rule("name", "blur"), "unknown de-identification method 'blur'"),
    (Rule("name", "mask", {"keep": 2}), "unknown parameter keep"),
    (Rule("name", "mask", {"first": "2"}), "first must be a whole number"),
    (Rule("name", "mask", {"first": -1}), "first must be between 0 and 64"),
    (Rule("name", "mask", {"char": "'"}), "char must be one of"),
    (Rule("born", "date", {"unit": "day"}), "unit must be one of month, year"),
    (Rule("age", "band", {"width": 0}), "width must be between 1"),
    (Rule("age", "clamp", {"low": 9, "high": 1}), "low 9 is above high 1"),
    (Rule("name", "pseudonym"), "pseudonym needs a release or consumer key"),
])
def test_unknown_methods_and_bad_parameters_are_clear_errors(
    engine: DuckDBEngine, rule: Rule, message: str
) -> None:
    with pytest.raises(DeidError, match=message):
        deid.read(engine, TABLE, Plan((rule,)))


def test_a_method_name_is_registered_once() -> None:
    with pytest.raises(DeidError, match="already registered"):
        deid.register(deid.method("mask"))


@pytest.fixture
def crowd(engine: DuckDBEngine) -> DuckDBEngine:
    # 3 people born 1990-05 aged 30s in 兰山区, 2 in 1990-06 same district, 1 alone in 1985.
    engine.write("ods_t.crowd", pa.table({
        "born": pa.array([date(1990, 5, 1), date(1990, 5, 2), date(1990, 5, 3),
                          date(1990, 6, 1), date(1990, 6, 9), date(1985, 1, 1)]),
        "age": pa.array([34, 34, 34, 34, 33, 39], pa.int64()),
        "addr": ["临沂市兰山区甲路1号", "临沂市兰山区乙路2号", "临沂市兰山区甲路1号",
                 "临沂市兰山区丙路", "临沂市兰山区丁路", "临沂市兰山区甲路1号"],
    }))
    return engine


def test_k_anonymity_counts_classes_and_rows_at_risk(crowd: DuckDBEngine) -> None:
    raw = deid.check(crowd, "ods_t.crowd", [Rule("born"), Rule("addr")], 2)
    assert (raw.rows, raw.classes, raw.smallest, raw.classes_below_k, raw.rows_at_risk) == (
        6, 6, 1, 6, 6)
    coarse = deid.check(crowd, "ods_t.crowd", [Rule("born", "date", {"unit": "month"}),
                                               Rule("addr", "district")], 2)
    assert (coarse.classes, coarse.smallest, coarse.classes_below_k, coarse.rows_at_risk) == (
        3, 1, 1, 1)
    assert coarse.share_at_risk == pytest.approx(1 / 6) and not coarse.reaches_k


def test_k_anonymity_suggests_the_least_generalisation_reaching_k(crowd: DuckDBEngine) -> None:
    found = deid.suggest(crowd, "ods_t.crowd", ["born", "addr"], 2)
    assert found.report is not None and found.report.reaches_k
    # The 1985 person stays alone under month or year; only without the birth date, and with
    # the address cut to its district, does everyone share a class.
    assert [r.method for r in found.report.quasi] == ["suppress", "district"]
    assert found.tried == 11  # 1 + 2 + 3 + 3 combinations of fewer steps, then year+cut
    assert found.report.smallest >= 2
    banded = deid.suggest(crowd, "ods_t.crowd", ["age"], 2)
    assert banded.report is not None
    assert [(r.method, dict(r.params)) for r in banded.report.quasi] == [
        ("band", {"width": 10})]  # 5-year bands leave the 39-year-old alone
    with pytest.raises(DeidError, match="at least 2"):
        deid.check(crowd, "ods_t.crowd", [Rule("age")], 1)
    with pytest.raises(DeidError, match="no column 'nope'"):
        deid.suggest(crowd, "ods_t.crowd", ["nope"], 2)


@dataclass
class Item:
    column_name: str | None
    confirmed_grade: str | None


@dataclass
class Entry:
    items: list[Item]


ITEMS = [Item("xm", "L1"), Item("xb", "2"), Item("gmsfhm", "三级"), Item("lxdh", "L4"),
         Item("zz", None), Item("hx", "核心"), Item(None, "L1"), Item("zy", "重要数据")]


@pytest.mark.parametrize(("audience", "key", "expected", "withheld"), [
    ("department", KEY_A, {"xm": "keep", "xb": "keep", "gmsfhm": "mask", "lxdh": "pseudonym"},
     ("zz", "hx", "zy")),
    ("department", None, {"xm": "keep", "xb": "keep", "gmsfhm": "mask"},
     ("lxdh", "zz", "hx", "zy")),
    ("public", KEY_A, {"xm": "keep", "xb": "mask", "gmsfhm": "suppress"},
     ("lxdh", "zz", "hx", "zy")),
])
def test_policy_per_grade_and_audience(
    audience: str, key: bytes | None, expected: dict[str, str], withheld: tuple[str, ...]
) -> None:
    plan = deid.view_for(Entry(ITEMS), audience, key)
    assert plan.methods() == expected
    assert plan.withheld == withheld
    assert deid.view_for(ITEMS, audience, key) == plan  # items alone do as well as an entry


def test_l4_never_reaches_the_public_and_unknown_audiences_are_refused() -> None:
    for grade in ("L4", "4", "四级"):
        assert deid.default(grade, "public").method == "withheld"
    with pytest.raises(DeidError, match="unknown audience 'press'"):
        deid.view_for(ITEMS, "press")


def test_a_policy_view_reads_through_the_warehouse(engine: DuckDBEngine) -> None:
    items = [Item("name", "L2"), Item("phone", "L4"), Item("age", "L1")]
    public = deid.read(engine, TABLE, deid.view_for(items, "public"))
    assert public.column_names == ["name", "age"]
    assert public.column("name").to_pylist()[0] == "张*丰"
    department = deid.read(engine, TABLE, deid.view_for(items, "department", KEY_A))
    assert hmac_sm3(KEY_A, b"13800001234").hex()[:32] in department.column("phone").to_pylist()


def test_column_and_table_names_never_become_sql(engine: DuckDBEngine) -> None:
    with pytest.raises(WarehouseError, match="invalid name"):
        deid.deidentified_select(TABLE, Plan((Rule('name" FROM x; --', "mask"),)))
    with pytest.raises(WarehouseError, match="must be qualified"):
        deid.deidentified_select("people", Plan((Rule("name"),)))
    with pytest.raises(WarehouseError, match="invalid name"):
        deid.read(engine, TABLE, Plan((Rule("income", "noise"),), key=KEY_A, row_id="id;1"))
