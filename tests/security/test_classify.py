from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from datapolis.demo import build_demo
from datapolis.security.classify import DETECTORS, Detector, Signal, suggest
from datapolis.security.classify.validators import normalise

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def _with_check_digit(first17: str) -> str:
    """An ID whose check character is right, so a test can make only another part wrong."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def valid(kind: str, value: str) -> bool:
    return DETECTORS[kind].validates(normalise(value))


@pytest.mark.parametrize(("kind", "good", "bad"), [
    ("resident_id",
     ["11010519491231002X", "372829197105047117", "37132120050601715X",
      _with_check_digit("37130219880229123")],  # Linyi 3713xx, and a leap day
     ["371321200506017151",  # wrong check character
      _with_check_digit("37130219870229123"),  # 1987-02-29 does not exist
      _with_check_digit("99130219880101123"),  # no province 99
      "3728291971050471", "372829710504711"]),  # too short, first-generation 15 digits
    ("credit_code", ["91371327109301261B", "91371324MAPMTFW56D"],
     ["91371327109301261C", "91371324MAPMTFW56", "372829197105047117"]),
    ("mobile", ["13995392233", "+8613995392233", "139-9539-2233"],
     ["12995392233", "1399539223", "0539-3908356"]),
    ("landline", ["0539-3908356", "05393908356", "010-62345678", "(021)62345678",
                  "0539-3908356-201"],
     ["0539-0908356", "3908356", "13995392233", "010-6234567"]),
    ("bank_card", ["6222022684182594894", "6230626255287526660", "4111111111111111"],
     ["6222022684182594895", "622202268418259", "0000000000000000", "62220226841825948941"]),
    ("email", ["2514549779@163.com", "li.na+gov@linyi.gov.cn"],
     ["2514549779@163", "li,na@163.com", "@qq.com", "li@na@163.com"]),
    ("person_name", ["蒋铭辉", "王兵", "欧阳娜娜", "张　伟", "阿依古丽·买买提"],
     ["蒙阴县", "兰山街道", "存续", "临沂大学", "王", "Zhang Wei", "思想政治教育专业"]),
    ("address", ["山东省临沂市蒙阴县野店镇北湖村光明路206号",
                 "临沂市兰山区金雀山街道沂蒙路１２号",
                 "兰陵县卞庄街道杨家泉社区振兴路176号3单元603室"],
     ["在山东省临沂市兰山区兰山街道赵家园社区和平路288号发现问题，请及时处理。",
      "临沂市莒南县沂远商贸股份有限公司", "蒙阴县", "莒南县市场监督管理局"]),
    ("licence_plate", ["鲁QF0111", "京A12345", "鲁QD12345", "鲁Q12345F", "鲁Q1234学"],
     ["鲁Q1234", "Q12345", "鲁I12345", "鲁QD123456"]),
    ("passport", ["E83486222", "EA1234567", "G12345678", "DE1234567"],
     ["E1234567", "EI1234567", "SB6683320721", "E123456789"]),
])
def test_validators(kind: str, good: list[str], bad: list[str]) -> None:
    assert [v for v in good if not valid(kind, v)] == []
    assert [v for v in bad if valid(kind, v)] == []


def test_every_kind_has_its_default_grade() -> None:
    grades = {kind: detector.grade for kind, detector in DETECTORS.items()}
    assert grades == {"resident_id": "L4", "credit_code": "L1", "mobile": "L3",
                      "landline": "L3", "bank_card": "L4", "email": "L3", "person_name": "L3",
                      "address": "L3", "licence_plate": "L3", "passport": "L4"}


def test_values_decide_between_kinds_the_name_allows() -> None:
    mobiles = ["13995392233", "18674290843", "17376835290", "15150524874", "18181314573"]
    landlines = ["0539-3908356", "0539-5472944", "0539-7005456", "0539-2211456", "0539-8123456"]
    assert suggest("lxdh", "联系电话", mobiles).kind == "mobile"
    assert suggest("lxdh", "联系电话", landlines).kind == "landline"
    found = suggest("sbr_lxdh", "上报人联系电话", mobiles)
    assert (found.kind, found.grade) == ("mobile", "L3")
    assert any("100% of 5" in reason for reason in found.reasons)


def test_name_alone_when_there_are_no_values() -> None:
    found = suggest("hzhm", "护照号码", [None, "", "  "])
    assert (found.kind, found.grade) == ("passport", "L4") and found.confidence >= 0.5
    assert suggest("dh", "", []).kind == "none"  # 电话 alone is too weak a signal
    # A few agreeing values back a weak name, but never stand without one.
    assert suggest("lxdh", "联系电话", ["18350626105"]).kind == "mobile"
    assert suggest("bz", "备注", ["18350626105", "13995392233"]).kind == "none"
    # A few values that contradict the name outvote it.
    assert suggest("hzhm", "护照号码", ["不详", "无"]).kind == "none"


def test_columns_that_only_look_sensitive_are_none() -> None:
    codes = ["3713281040000001", "3713240010000001", "3713211000000001"] * 3
    assert suggest("hjdz_dzbm", "户籍地址编码", codes).kind == "none"
    sentence = "在山东省临沂市兰山区兰山街道赵家园社区和平路288号发现政策咨询问题，请及时处理。"
    assert suggest("sjms", "事件描述", [sentence] * 10).kind == "none"
    # Two names repeated over and over are a code list, not people.
    assert suggest("lb", "类别", ["张三", "李四"] * 20).kind == "none"
    found = suggest("xb", "性别（GB/T 2261.1：1男 2女）", ["1", "2", "1", "1", "2"])
    assert (found.kind, found.grade) == ("none", "L1")


def test_the_name_vouches_for_a_dirty_column() -> None:
    # Half first-generation 15-digit numbers: the values alone do not reach the share needed.
    values = ["372829197105047117", "372829710504711"] * 5
    assert suggest("", "", values).kind == "none"
    assert suggest("gmsfhm", "公民身份号码", values).kind == "resident_id"


def test_an_outside_detector_joins_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    staff = Detector("staff_no", "工号", "staff number", "L2", (Signal(1.0, ("工号",), ("gh",)),),
                     lambda value: value.startswith("LY") and value[2:].isdigit())
    monkeypatch.setitem(DETECTORS, "staff_no", staff)
    found = suggest("gh", "工号", [f"LY{n:05d}" for n in range(10)])
    assert (found.kind, found.grade) == ("staff_no", "L2")


def _demo_samples(demo: Path, size: int) -> list[tuple[dict[str, str], list[str]]]:
    columns = pq.read_table(demo / "truth" / "columns.parquet").to_pylist()
    out = []
    for column in columns:
        if column["system"] == "mzj_dibao":
            path = demo / "files" / "mzj" / f"{column['table']}.csv"
            with path.open(encoding="gbk", newline="") as file:
                values = [row[column["column"]] for row in csv.DictReader(file)]
        else:
            with sqlite3.connect(demo / "sources" / f"{column['system']}.sqlite") as db:
                values = [row[0] for row in db.execute(
                    f'SELECT "{column["column"]}" FROM "{column["table"]}"')]
        present = [str(v) for v in values if v is not None and str(v).strip()]
        out.append((column, present[:size]))
    return out


def test_demo_columns_are_classified(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    build_demo(out_dir=demo, people=300, seed=11)
    truth: dict[str, int] = {}
    hits: dict[str, int] = {}
    wrong_positive = []
    for column, values in _demo_samples(demo, 100):
        kind = suggest(column["column"], column["comment"], values).kind
        truth[column["data_kind"]] = truth.get(column["data_kind"], 0) + 1
        if kind == column["data_kind"]:
            hits[kind] = hits.get(kind, 0) + 1
        elif kind != "none":
            wrong_positive.append((column["table"], column["column"], kind))
    assert set(truth) - {"none"} == set(DETECTORS)  # every built-in kind is exercised
    recall = {kind: hits.get(kind, 0) / count for kind, count in truth.items()}
    assert {kind: r for kind, r in recall.items() if r < 0.9} == {}
    assert wrong_positive == []
