"""The generated systems: valid identifiers except where the truth says dirty, and the truth."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from stdnum.cn import ric, uscc

from datapolis.demo import CITY, Manifest
from datapolis.demo.city import birth_division
from tests.demo.conftest import HIGH_RATES

Demo = tuple[Path, Manifest]
ID_COLUMNS = [("gaj_hjxt", "czrk", "gmsfhm"), ("gaj_hjxt", "hxx", "hz_gmsfhm"),
              ("scjg_qydj", "qyjbxx", "fddbr_zjhm"), ("scjg_qydj", "qy_tzr", "zjhm"),
              ("jy_xlxx", "xlxx", "sfzh"), ("bdc_djxt", "qlr", "zjh")]


def rows(out: Path, system: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(out / "sources" / f"{system}.sqlite") as conn:
        return conn.execute(sql).fetchall()


def dirt(out: Path, system: str) -> list[dict[str, Any]]:
    return pq.read_table(out / "truth" / "dirt" / f"{system}.parquet").to_pylist()


def dirty_cells(out: Path, system: str, table: str, column: str) -> dict[str, str]:
    return {d["pk"]: d["kind"] for d in dirt(out, system)
            if d["table"] == table and d["column"] == column}


def org_code_ok(code: str) -> bool:
    """GB 11714, written out here independently of the generator."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in code[:8]]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return code[8] == {10: "X", 11: "0"}.get(check, str(check))


@pytest.mark.parametrize(("system", "table", "column"), ID_COLUMNS)
def test_resident_ids_valid_except_where_truth_marks_them(dirty_demo: Demo, system: str,
                                                         table: str, column: str) -> None:
    out, _ = dirty_demo
    pk = {"hxx": "hh"}.get(table) or rows(out, system, f"PRAGMA table_info({table})")[0][1]
    marked = dirty_cells(out, system, table, column)
    seen = set()
    for key, value in rows(out, system, f"SELECT {pk}, {column} FROM {table}"):
        kind = marked.get(str(key))
        seen.add(kind)
        if kind is None:
            assert ric.is_valid(value), (key, value)
        elif kind == "legacy_id15":
            assert len(value) == 15 and value.isdigit()
        elif kind == "blank":
            assert value in ("", None)
        else:
            assert kind == "check_digit" and len(value) == 18 and not ric.is_valid(value)
    assert {None, "check_digit"} <= seen


def test_ids_agree_with_birth_date_sex_and_division(dirty_demo: Demo) -> None:
    out, _ = dirty_demo
    persons = {p["person_key"]: p for p in
               pq.read_table(out / "truth" / "persons.parquet").to_pylist()}
    links = {(lk["table"], lk["pk"]): lk["entity_key"] for lk in
             pq.read_table(out / "truth" / "links" / "gaj_hjxt.parquet").to_pylist()}
    marked = dirty_cells(out, "gaj_hjxt", "czrk", "gmsfhm")
    checked = 0
    for ryid, number, sex, born in rows(out, "gaj_hjxt", "SELECT ryid, gmsfhm, xb, csrq FROM czrk"):
        truth = persons[links[("czrk", str(ryid))]]
        assert born == truth["birth_date"].isoformat()
        if str(ryid) in marked:
            continue
        assert number == truth["id_number"]
        assert ric.get_birth_date(number) == date.fromisoformat(born)
        assert int(number[16]) % 2 == (1 if sex == "1" else 0)
        year = int(number[6:10])
        assert number[:6] in {birth_division(c.code, year) for c in CITY.counties}
        checked += 1
    assert checked > 1500


def test_credit_codes_valid_except_where_truth_marks_them(dirty_demo: Demo) -> None:
    out, _ = dirty_demo
    marked = dirty_cells(out, "scjg_qydj", "qyjbxx", "tyshxydm")
    valid = 0
    for key, code, status in rows(out, "scjg_qydj", "SELECT qyid, tyshxydm, djzt FROM qyjbxx"):
        assert status in ("存续", "在业", "注销", "吊销")
        kind = marked.get(str(key))
        if kind is None:
            assert uscc.is_valid(code) and org_code_ok(code[8:17]), code
            assert code[2:8] in {c.code for c in CITY.counties}
            valid += 1
        elif kind == "blank":
            assert code in ("", None)
        else:
            assert kind == "check_digit" and not uscc.is_valid(code)
    assert valid > 80


def _rate(count: int, eligible: int, expected: float) -> None:
    sigma = (expected * (1 - expected) / eligible) ** 0.5
    assert abs(count / eligible - expected) < 4 * sigma + 0.002, (count, eligible, expected)


def test_dirt_rates_are_near_the_configured_ones(dirty_demo: Demo) -> None:
    out, manifest = dirty_demo
    gaj = dirt(out, "gaj_hjxt")
    n_persons = manifest.system("gaj_hjxt").tables["czrk"]

    def count(table: str, column: str | None, kind: str) -> int:
        return sum(1 for d in gaj if (d["table"], d["column"], d["kind"]) == (table, column, kind))

    base = manifest.people
    _rate(count("czrk", None, "exact_duplicate"), base, HIGH_RATES.exact_duplicate)
    near = sum(1 for d in gaj if d["table"] == "czrk" and d["kind"] == "near_duplicate")
    _rate(near, base, HIGH_RATES.near_duplicate)
    _rate(count("czrk", "gmsfhm", "check_digit"), n_persons, HIGH_RATES.check_digit)
    born_1900s = sum(1 for (n,) in rows(out, "gaj_hjxt", "SELECT csrq FROM czrk")
                     if n < "2000")
    _rate(count("czrk", "gmsfhm", "legacy_id15"), born_1900s, HIGH_RATES.legacy_id15)
    _rate(count("czrk", "xm", "blank"), n_persons, HIGH_RATES.blank)
    _rate(count("czrk", "hjdz", "fullwidth"), n_persons, HIGH_RATES.fullwidth)
    _rate(count("czrk", "gxsj", "stale"), n_persons, HIGH_RATES.stale)
    _rate(count("czrk", "qrrq", "date_format"), n_persons, HIGH_RATES.date_format)
    jy = [d for d in dirt(out, "jy_xlxx") if d["column"] == "csrq"]
    n_degrees = manifest.system("jy_xlxx").tables["xlxx"]
    _rate(sum(d["kind"] == "conflict" for d in jy), n_degrees, HIGH_RATES.conflict)


def test_dirty_values_look_like_their_kind(dirty_demo: Demo) -> None:
    out, _ = dirty_demo
    values = dict(rows(out, "gaj_hjxt", "SELECT ryid, hjdz FROM czrk"))
    names = dict(rows(out, "gaj_hjxt", "SELECT ryid, xm FROM czrk"))
    moved = dict(rows(out, "gaj_hjxt", "SELECT ryid, qrrq FROM czrk"))
    for d in dirt(out, "gaj_hjxt"):
        if d["table"] != "czrk":
            continue
        key = int(d["pk"])
        if (d["column"], d["kind"]) == ("hjdz", "fullwidth"):
            assert any("０" <= ch <= "９" for ch in values[key])
            assert values[key] != d["clean_value"]
        elif (d["column"], d["kind"]) == ("xm", "fullwidth"):
            assert "\u3000" in names[key]
        elif (d["column"], d["kind"]) == ("qrrq", "date_format"):
            assert moved[key] != d["clean_value"]
            assert "/" in moved[key] or "年" in moved[key] or moved[key].isdigit()
        elif d["kind"] == "stale":
            assert d["clean_value"] > "2024"


def test_duplicates_repeat_their_original(dirty_demo: Demo) -> None:
    out, _ = dirty_demo
    records = {r[0]: r[1:] for r in rows(out, "gaj_hjxt", "SELECT * FROM czrk")}
    touched = {int(d["pk"]) for d in dirt(out, "gaj_hjxt")
               if d["table"] == "czrk" and d["kind"] not in ("exact_duplicate", "near_duplicate")}
    exact = [d for d in dirt(out, "gaj_hjxt") if d["kind"] == "exact_duplicate"]
    assert exact
    for d in exact:
        copy, original = int(d["pk"]), int(d["ref_pk"])
        assert copy > max(int(k) for k in records) - len(records) // 10
        if copy not in touched and original not in touched:
            assert records[copy] == records[original]


def test_conflicting_departments_disagree_with_the_police_record(dirty_demo: Demo) -> None:
    out, _ = dirty_demo
    persons = {p["person_key"]: p for p in
               pq.read_table(out / "truth" / "persons.parquet").to_pylist()}
    links = {lk["pk"]: lk["entity_key"] for lk in
             pq.read_table(out / "truth" / "links" / "jy_xlxx.parquet").to_pylist()}
    born = dict(rows(out, "jy_xlxx", "SELECT xlid, csrq FROM xlxx"))
    conflicts = [d for d in dirt(out, "jy_xlxx") if d["kind"] == "conflict"]
    assert conflicts
    for d in conflicts:
        truth = persons[links[d["pk"]]]["birth_date"].isoformat()
        assert d["clean_value"] == truth
        assert born[int(d["pk"])] != truth


def test_every_person_record_links_to_a_true_person(dirty_demo: Demo) -> None:
    out, manifest = dirty_demo
    keys = set(pq.read_table(out / "truth" / "persons.parquet").column("person_key").to_pylist())
    links = pq.read_table(out / "truth" / "links").to_pylist()
    assert {lk["entity_key"] for lk in links if lk["entity"] == "person"} <= keys
    czrk = [lk for lk in links if lk["table"] == "czrk"]
    assert len(czrk) == manifest.system("gaj_hjxt").tables["czrk"]
    linked_systems = {lk["system"] for lk in links}
    assert linked_systems == {s.name for s in manifest.systems}


def test_column_truth_covers_every_data_kind(dirty_demo: Demo) -> None:
    out, _ = dirty_demo
    columns = pq.read_table(out / "truth" / "columns.parquet").to_pylist()
    kinds = {(c["system"], c["table"], c["column"]): c["data_kind"] for c in columns}
    assert kinds[("gaj_hjxt", "czrk", "gmsfhm")] == "resident_id"
    assert kinds[("scjg_qydj", "qyjbxx", "tyshxydm")] == "credit_code"
    assert kinds[("swjt_yxxt", "yhda", "yhkh")] == "bank_card"
    assert kinds[("mzj_dibao", "dibao_202605", "身份证号码")] == "resident_id"
    assert set(kinds.values()) == {"resident_id", "credit_code", "mobile", "landline",
                                   "bank_card", "email", "person_name", "address",
                                   "licence_plate", "passport", "none"}


def test_gbk_only_department_delivers_csv_files(dirty_demo: Demo) -> None:
    out, manifest = dirty_demo
    info = manifest.system("mzj_dibao")
    assert info.storage == "files"
    assert not (out / "sources" / "mzj_dibao.sqlite").exists()
    for name, count in info.tables.items():
        raw = (out / "files" / "mzj" / f"{name}.csv").read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("gbk")
        lines = text.split("\r\n")
        assert lines[0].startswith('"序号","区县"')
        assert len([line for line in lines[1:] if line]) == count


def test_sqlite_tables_keep_their_chinese_comments(dirty_demo: Demo) -> None:
    from datapolis.demo.systems import all_systems

    out, _ = dirty_demo
    for system in all_systems().values():
        if system.files_only:
            continue
        for table in system.tables:
            (sql,) = rows(out, system.name,
                          f"SELECT sql FROM sqlite_master WHERE name = '{table.name}'")[0]
            assert f"-- {table.comment}" in sql
            for column in table.columns:
                assert f"{column.name} " in sql and f"-- {column.comment}" in sql


def test_manifest_counts_match_the_databases(dirty_demo: Demo) -> None:
    out, manifest = dirty_demo
    assert Manifest.load(out) == manifest
    assert manifest.people == 2000 and manifest.rates == HIGH_RATES.as_dict()
    for system in manifest.systems:
        if system.storage != "sqlite":
            continue
        assert system.url == f"sources/{system.name}.sqlite"
        for table, count in system.tables.items():
            assert rows(out, system.name, f"SELECT COUNT(*) FROM {table}")[0][0] == count
