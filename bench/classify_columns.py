"""Benchmark: suggested field kinds on the demo city's columns, scored against its truth.

Builds a demo (`datapolis.demo.build_demo`) into a temporary directory, samples up to N
non-blank values per column (SQLite files under sources/, GBK CSV files under files/mzj/),
runs `datapolis.security.classify.suggest` on each column's name, comment and values, and
compares with the kinds the demo recorded in truth/columns.parquet: precision and recall per
kind and overall (over the sensitive kinds; "none" is the negative class).

Peers (Presidio is not available offline, so the same idea without its context words):
- regex-only: shape regexes on the values, no check digits and no column names; a column
  takes the first kind (in a fixed order) whose regex at least 80% of its values match.
- names-only: keywords in the comment and pinyin column names, no values.
Also reported: Datapolis on the values alone (name and comment blanked), because the name
signals were written knowing the demo's column names and the values were not.

    .venv/bin/python bench/classify_columns.py [--people 20000] [--sample 200] [--seed 20240601]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Comparison, print_comparisons, print_rows, write_result
from datapolis.demo import build_demo
from datapolis.security.classify import DETECTORS, suggest

Column = dict[str, str]
Classifier = Callable[[Column, list[str]], str]

# What a user would write in an afternoon: shapes only, most specific first.
_SHAPES: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"\S+@\S+\.\w+")),
    ("resident_id", re.compile(r"\d{17}[\dXx]|\d{15}")),
    ("credit_code", re.compile(r"[0-9A-Z]{18}")),
    ("bank_card", re.compile(r"\d{16,19}")),
    ("mobile", re.compile(r"1\d{10}")),
    ("landline", re.compile(r"0\d{2,3}-?\d{7,8}")),
    ("passport", re.compile(r"[A-Z]\d{8}")),
    ("licence_plate", re.compile(r"[\u4e00-\u9fff][A-Z][A-Z0-9]{5,6}")),
    ("address", re.compile(r".*[省市县区].*\d+号.*")),
    ("person_name", re.compile(r"[\u4e00-\u9fff]{2,4}")),
]

_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("resident_id", ("身份证", "身份号码", "sfz", "gmsfhm")),
    ("credit_code", ("信用代码", "xydm")),
    ("passport", ("护照",)),
    ("bank_card", ("卡号", "银行卡")),
    ("email", ("邮箱", "邮件", "email")),
    ("licence_plate", ("号牌", "车牌", "cph")),
    ("landline", ("固定电话", "座机")),
    ("mobile", ("电话", "手机", "lxdh", "sjhm")),
    ("address", ("地址", "住址", "住所", "坐落")),
    ("person_name", ("姓名", "名称", "人", "xm")),
]


def regex_only(column: Column, values: list[str]) -> str:
    if not values:
        return "none"
    for kind, shape in _SHAPES:
        if sum(1 for value in values if shape.fullmatch(value)) >= 0.8 * len(values):
            return kind
    return "none"


def names_only(column: Column, values: list[str]) -> str:
    text = f"{column['column']} {column['comment']}"
    return next((kind for kind, words in _KEYWORDS if any(w in text for w in words)), "none")


def datapolis(column: Column, values: list[str]) -> str:
    return suggest(column["column"], column["comment"], values).kind


def datapolis_values_only(column: Column, values: list[str]) -> str:
    """Ablation: the same detectors without the column's name and comment."""
    return suggest("", "", values).kind


def sample_columns(demo: Path, columns: list[Column], size: int,
                   seed: int) -> list[list[str]]:
    """Up to `size` non-blank values of every column, drawn at random with a fixed seed."""
    rng = random.Random(seed)
    csv_rows: dict[str, list[dict[str, str]]] = {}
    samples = []
    for column in columns:
        if column["system"] == "mzj_dibao":
            if column["table"] not in csv_rows:
                path = demo / "files" / "mzj" / f"{column['table']}.csv"
                with path.open(encoding="gbk", newline="") as file:
                    csv_rows[column["table"]] = list(csv.DictReader(file))
            values = [row[column["column"]] for row in csv_rows[column["table"]]]
        else:
            with sqlite3.connect(demo / "sources" / f"{column['system']}.sqlite") as db:
                values = [row[0] for row in db.execute(
                    f'SELECT "{column["column"]}" FROM "{column["table"]}"')]
        present = [str(value) for value in values if value is not None and str(value).strip()]
        samples.append(rng.sample(present, min(size, len(present))))
    return samples


def score(truth: list[str], predicted: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall and counts per sensitive kind, and micro-averaged over all of them."""
    kinds = sorted({k for k in truth + predicted if k != "none"})
    out: dict[str, dict[str, float]] = {}
    for kind in [*kinds, "overall"]:
        if kind == "overall":
            tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p != "none")
            said = sum(1 for p in predicted if p != "none")
            real = sum(1 for t in truth if t != "none")
        else:
            tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p == kind)
            said = predicted.count(kind)
            real = truth.count(kind)
        out[kind] = {"precision": tp / said if said else 1.0, "recall": tp / real if real else 1.0,
                     "true": real, "predicted": said, "correct": tp}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        build_demo(out_dir=demo, people=args.people, seed=args.seed)
        columns: list[Column] = pq.read_table(demo / "truth" / "columns.parquet").to_pylist()
        samples = sample_columns(demo, columns, args.sample, args.seed)
    truth = [column["data_kind"] for column in columns]
    results: dict[str, dict[str, dict[str, float]]] = {}
    predictions: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    for name, classify in (("datapolis", datapolis), ("values only", datapolis_values_only),
                           ("regex-only", regex_only), ("names-only", names_only)):
        started = time.perf_counter()
        predictions[name] = [classify(c, s) for c, s in zip(columns, samples, strict=True)]
        seconds[name] = time.perf_counter() - started
        results[name] = score(truth, predictions[name])

    kinds = [k for k in [*DETECTORS, "overall"] if k in results["datapolis"]]
    rows = []
    for kind in kinds:
        cells = [kind, str(int(results["datapolis"][kind]["true"]))]
        for name in results:
            got = results[name].get(kind, {"precision": 1.0, "recall": 0.0})
            cells.append(f"{got['precision']:.2f} / {got['recall']:.2f}")
        rows.append(cells)
    print_rows(f"Field kinds on {len(columns)} demo columns ({args.people:,} people, "
               f"{args.sample} values each): precision / recall",
               ["kind", "columns", "Datapolis", "Datapolis values only", "regex-only",
                "names-only"], rows)
    mistakes = [[f"{c['system']}.{c['table']}.{c['column']}", c["comment"], t, p]
                for c, t, p in zip(columns, truth, predictions["datapolis"], strict=True)
                if t != p]
    if mistakes:
        print_rows("Datapolis mistakes", ["column", "comment", "true", "suggested"], mistakes)
    ours, comparisons = results["datapolis"]["overall"], []
    for peer in ("regex-only", "names-only"):
        theirs = results[peer]["overall"]
        comparisons += [
            Comparison("overall precision", ours["precision"] * 100, theirs["precision"] * 100,
                       peer, unit="%"),
            Comparison("overall recall", ours["recall"] * 100, theirs["recall"] * 100, peer,
                       unit="%")]
    print_comparisons("Classification suggestions vs peers", comparisons)
    path = write_result("classify_columns", {
        "people": args.people, "sample": args.sample, "seed": args.seed,
        "columns": len(columns), "scores": results, "seconds": seconds,
        "mistakes": [dict(zip(("column", "comment", "true", "suggested"), m, strict=True))
                     for m in mistakes],
    }, comparisons)
    print(f"written {path}")


if __name__ == "__main__":
    main()
