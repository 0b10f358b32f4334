"""Benchmark: catalog search over 100,000 entries vs SQLite FTS5 on the same segmented text.

Entries are composed from real government vocabulary (the demo city's counties, their
departments, resource subjects, information items, tags) with a fixed seed. Datapolis:
segment (jieba-fast-dat, search mode) and index every entry in memory, then answer a fixed
set of queries, each with all seven facet counts and the first page of 20. Also timed: the
rebuild from persisted tokens (what a restart does), and pure-Python jieba on a sample.

The peer is what a user would otherwise pick on one machine: SQLite FTS5 over the same
jieba tokens (one column per field, bm25() with the same field weights), the AND of the
query words, the first page, the total and the same facet counts with GROUP BY; and, on a
few queries, a naive `LIKE '%word%'` scan over the raw text.

    .venv/bin/python bench/catalog_search.py [--entries 100000] [--queries 300]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Comparison, print_comparisons, print_rows, write_result
from datapolis.catalog.search.analyzer import tokenizer
from datapolis.catalog.search.documents import FIELDS, AnalyzedDocument, Document, analyze
from datapolis.catalog.search.entries import FACETS, HIDDEN_FACETS
from datapolis.catalog.search.index import SearchIndex
from datapolis.catalog.search.query import parse_query

COUNTIES = ["临沂市", "兰山区", "罗庄区", "河东区", "沂南县", "郯城县", "沂水县", "兰陵县", "费县",
            "平邑县", "莒南县", "蒙阴县", "临沭县"]
# department -> (code, subjects it publishes)
DEPARTMENTS: dict[str, tuple[str, list[str]]] = {
    "公安局": ("gaj", ["常住人口", "户籍人口", "流动人口", "居住证", "机动车登记", "驾驶证",
                     "出入境证件", "户籍迁移", "治安案件"]),
    "民政局": ("mzj", ["城乡低保人员", "特困供养人员", "婚姻登记", "殡葬服务", "社会组织登记",
                     "养老机构", "残疾人两项补贴", "临时救助"]),
    "人力资源和社会保障局": ("rsj", ["养老保险参保", "失业保险金发放", "工伤认定", "职业技能证书",
                           "就业登记", "社会保障卡"]),
    "市场监督管理局": ("scjgj", ["企业登记", "个体工商户登记", "营业执照", "食品经营许可",
                           "行政处罚", "经营异常名录", "特种设备"]),
    "自然资源和规划局": ("zrzyj", ["不动产登记", "宗地", "国土空间规划", "建设用地审批",
                            "土地利用现状", "地理信息"]),
    "教育局": ("jyj", ["学籍", "学历证书", "义务教育招生", "教师资格", "学校基本信息"]),
    "卫生健康委员会": ("wjw", ["出生医学证明", "预防接种", "电子健康档案", "医疗机构执业",
                           "死亡医学证明"]),
    "住房和城乡建设局": ("zjj", ["商品房预售", "建筑企业资质", "公租房保障", "住房公积金缴存",
                            "建设工程规划许可"]),
    "水务局": ("swj", ["用水户", "水费欠费", "供水管网", "取水许可"]),
    "税务局": ("swuj", ["纳税人登记", "欠税公告", "发票开具", "税收优惠"]),
    "综合行政执法局": ("zfj", ["网格化管理事件", "城市部件", "违法建设查处", "市容环境"]),
    "交通运输局": ("jtj", ["道路运输许可", "公交线路", "出租汽车", "客运站点"]),
    "医疗保障局": ("ybj", ["医保参保", "医保结算", "定点医药机构", "门诊慢特病"]),
    "退役军人事务局": ("tyjrj", ["退役军人信息", "优抚对象", "军休人员"]),
    "大数据局": ("dsjj", ["政务服务事项", "一网通办办件", "12345热线工单", "电子证照目录"]),
}
KINDS = ["信息", "名单", "台账", "登记信息", "统计表", "明细", "数据", "目录", "清单"]
ITEMS = ["姓名", "公民身份号码", "性别", "民族", "出生日期", "户籍地址", "居住地址", "联系电话",
         "统一社会信用代码", "企业名称", "法定代表人", "注册资本", "经营范围", "成立日期",
         "登记机关", "不动产单元号", "权利人", "房屋坐落", "建筑面积", "宗地代码", "学历层次",
         "毕业院校", "证书编号", "发证日期", "有效期限", "保障金额", "发放月份", "事件编号",
         "事件类型", "上报时间", "处置结果", "所属网格", "行政区划代码", "经度", "纬度",
         "车牌号码", "用水户号", "欠费金额", "参保状态", "缴费基数", "工单编号", "诉求内容"]
TAGS = ["人口", "户籍", "低保", "民政", "法人", "企业", "信用", "不动产", "教育", "学历", "医疗",
        "社保", "网格化", "城市管理", "交通", "税务", "住房", "水务", "电子证照", "政务服务"]
PURPOSES = ["用于政务服务身份核验", "支撑一网通办", "用于基层一表通预填", "用于数据比对",
            "用于城市大脑驾驶舱", "用于信用监管", "用于精准救助"]
GRADES = ["none", "1", "2", "3", "4"]
VALUES = {
    "catalog_type": ["basic_population", "basic_legal_entity", "basic_geospatial",
                     "basic_credit", "basic_licence", "theme", "department"],
    "share_type": ["unconditional", "conditional", "not_shared"],
    "open": ["open", "not_open"],
    "update_cycle": ["realtime", "hourly", "daily", "weekly", "ten_days", "monthly",
                     "quarterly", "half_yearly", "yearly", "irregular"],
    "status": ["published", "published", "published", "draft", "submitted", "retired"],
}


def make_documents(count: int, seed: int) -> list[Document]:
    rng = random.Random(seed)
    departments = list(DEPARTMENTS.items())
    documents = []
    for doc_id in range(1, count + 1):
        county = rng.choice(COUNTIES)
        department, (short, subjects) = rng.choice(departments)
        subject, kind = rng.choice(subjects), rng.choice(KINDS)
        items = rng.sample(ITEMS, rng.randint(4, 14))
        name = f"{county}{subject}{kind}"
        summary = (f"{county}{department}归集的{subject}{kind}，包括{'、'.join(items[:3])}等"
                   f"信息项，{rng.choice(PURPOSES)}。")
        facets = {name_: rng.choice(values) for name_, values in VALUES.items()}
        facets["provider"] = f"{COUNTIES.index(county):02d}_{short}"
        facets["provider_id"] = str(COUNTIES.index(county) * 100 + departments.index(
            (department, (short, subjects))))
        facets["grade"] = rng.choice(GRADES)
        documents.append(Document(doc_id, {
            "name": name, "code": f"{rng.randint(100000, 399999)}/{doc_id:06d}",
            "tags": rng.sample(TAGS, rng.randint(1, 3)), "items": items, "summary": summary,
        }, facets))
    return documents


def make_queries(count: int, seed: int) -> list[tuple[str, dict[str, list[str]]]]:
    rng = random.Random(seed + 1)
    subjects = [s for _, (_, ss) in DEPARTMENTS.items() for s in ss]
    shapes = [
        lambda: rng.choice(subjects),
        lambda: f"{rng.choice(COUNTIES)[:2]} {rng.choice(subjects)}",
        lambda: f"{rng.choice(subjects)}{rng.choice(KINDS)}",
        lambda: rng.choice(ITEMS),
        lambda: f"{rng.choice(TAGS)} {rng.choice(ITEMS)}",
        lambda: f"{rng.choice(list(DEPARTMENTS))} {rng.choice(KINDS)}",
        lambda: rng.choice(["临沂 户籍 人口", "低保人员名单", "企业登记", "不动产 权利人",
                            "网格化 事件", "学历证书", "统一社会信用代码", "公积金"]),
    ]
    queries = []
    for _ in range(count):
        text = rng.choice(shapes)()
        filters: dict[str, list[str]] = {}
        if rng.random() < 0.5:
            facet = rng.choice(["catalog_type", "share_type", "open", "update_cycle"])
            filters[facet] = rng.sample(VALUES[facet], 1 + (rng.random() < 0.3))
        if rng.random() < 0.2:
            filters["grade"] = rng.sample(GRADES, 2)
        queries.append((text, filters))
    return queries


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    at = lambda q: ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]  # noqa: E731
    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ms[-1],
            "mean": statistics.fmean(ms)}


def persisted(document: AnalyzedDocument) -> tuple[dict[str, str], str]:
    return {k: " ".join(v) for k, v in document.tokens.items()}, " ".join(document.runs)


def build_fts(analyzed: list[AnalyzedDocument], documents: list[Document]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    columns = list(FIELDS)
    db.execute(f"CREATE VIRTUAL TABLE fts USING fts5({', '.join(columns)}, "
               "tokenize='unicode61')")
    db.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT, summary TEXT, "
               "items TEXT, tags TEXT, " + ", ".join(f"{f} TEXT" for f in FACETS) + ")")
    for facet in FACETS:
        db.execute(f"CREATE INDEX ix_{facet} ON entries ({facet})")
    db.executemany(f"INSERT INTO fts (rowid, {', '.join(columns)}) VALUES "
                   f"(?, {', '.join('?' for _ in columns)})",
                   [(a.id, *(" ".join(a.tokens.get(c, [])) for c in columns)) for a in analyzed])
    db.executemany(f"INSERT INTO entries VALUES (?, ?, ?, ?, ?, {', '.join('?' for _ in FACETS)})",
                   [(d.id, d.fields["name"], d.fields["summary"], " ".join(d.fields["items"]),
                     " ".join(d.fields["tags"]), *(d.facets[f] for f in FACETS))
                    for d in documents])
    db.commit()
    return db


def fts_search(db: sqlite3.Connection, words: tuple[str, ...],
               filters: dict[str, list[str]]) -> tuple[int, list[int]]:
    match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
    weights = ", ".join(str(spec.weight) for spec in FIELDS.values())
    where = ["e.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)"]
    params: list[Any] = [match]
    for facet, values in filters.items():
        where.append(f"e.{facet} IN ({', '.join('?' for _ in values)})")
        params += values
    clause = " AND ".join(where)
    page = [row[0] for row in db.execute(
        f"SELECT fts.rowid FROM fts JOIN entries e ON e.id = fts.rowid WHERE fts MATCH ? "
        f"AND {' AND '.join(where[1:]) or '1'} ORDER BY bm25(fts, {weights}) LIMIT 20",
        [match, *params[1:]])]
    total = db.execute(f"SELECT count(*) FROM entries e WHERE {clause}", params).fetchone()[0]
    for facet in FACETS:  # the same "all filters but its own" counts as ours
        own = [(f, v) for f, v in filters.items() if f != facet]
        sub = [where[0]] + [f"e.{f} IN ({', '.join('?' for _ in v)})" for f, v in own]
        db.execute(f"SELECT e.{facet}, count(*) FROM entries e WHERE {' AND '.join(sub)} "
                   f"GROUP BY e.{facet}", [match, *(x for _, v in own for x in v)]).fetchall()
    return total, page


def like_search(db: sqlite3.Connection, words: tuple[str, ...]) -> int:
    where = " AND ".join("(name || summary || items || tags) LIKE ?" for _ in words)
    return int(db.execute(f"SELECT count(*) FROM entries WHERE {where}",
                          [f"%{w}%" for w in words]).fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--jieba-sample", type=int, default=5_000)
    args = parser.parse_args()

    documents = make_documents(args.entries, args.seed)
    queries = make_queries(args.queries, args.seed)
    tokenizer()  # the dictionary load (about a second) is a one-off per process, not indexing

    index = SearchIndex((*FACETS, *HIDDEN_FACETS))
    started = time.perf_counter()
    analyzed = [analyze(document) for document in documents]
    segment_seconds = time.perf_counter() - started
    for document in analyzed:
        index.add(document)
    index_seconds = time.perf_counter() - started

    stored = [persisted(a) for a in analyzed]
    started = time.perf_counter()
    reloaded = SearchIndex((*FACETS, *HIDDEN_FACETS))
    for a, (tokens, runs) in zip(analyzed, stored, strict=True):
        reloaded.add(AnalyzedDocument(a.id, {k: v.split() for k, v in tokens.items()},
                                      runs.split(), a.facets))
    reload_seconds = time.perf_counter() - started
    del reloaded

    ours: list[float] = []
    totals: list[int] = []
    parsed = [(parse_query(text), filters) for text, filters in queries]
    for query, filters in parsed:  # one warm-up pass, then the measured one
        index.search(query, filters=filters, facets=FACETS)
    for query, filters in parsed:
        started = time.perf_counter()
        found = index.search(query, filters=filters, facets=FACETS, limit=20)
        ours.append(time.perf_counter() - started)
        totals.append(found.total)

    started = time.perf_counter()
    db = build_fts(analyzed, documents)
    fts_build_seconds = time.perf_counter() - started + segment_seconds
    peer: list[float] = []
    mismatches = 0
    for (query, filters), total in zip(parsed, totals, strict=True):
        if query.empty:
            continue
        started = time.perf_counter()
        fts_total, _ = fts_search(db, query.words, filters)
        peer.append(time.perf_counter() - started)
        # FTS5 has no bigram fallback: it can only find fewer.
        mismatches += fts_total > total
    like: list[float] = []
    for query, _ in parsed[:20]:
        started = time.perf_counter()
        like_search(db, query.words)
        like.append(time.perf_counter() - started)

    jieba_rate = None
    try:
        import jieba

        jieba.setLogLevel(60)
        plain = jieba.Tokenizer()
        plain.initialize()
        sample = [" ".join(str(v) if isinstance(v, str) else " ".join(v)
                           for v in d.fields.values()) for d in documents[:args.jieba_sample]]
        started = time.perf_counter()
        for text in sample:
            plain.lcut_for_search(text)
        jieba_rate = len(sample) / (time.perf_counter() - started)
        started = time.perf_counter()
        for text in sample:
            tokenizer().lcut_for_search(text)
        fast_rate = len(sample) / (time.perf_counter() - started)
    except ImportError:
        fast_rate = None

    ours_p, peer_p, like_p = percentiles(ours), percentiles(peer), percentiles(like)
    comparisons = [
        Comparison(f"query latency {k}", ours_p[k], peer_p[k], "SQLite FTS5 (same tokens)",
                   "ms", higher_is_better=False, note="with 7 facet counts, first page of 20")
        for k in ("p50", "p95", "p99", "max")
    ]
    comparisons.append(Comparison("query latency p50", ours_p["p50"], like_p["p50"],
                                  "LIKE '%…%' scan", "ms", higher_is_better=False,
                                  note="count only, 20 queries"))
    comparisons.append(Comparison("indexing rate", args.entries / index_seconds,
                                  args.entries / fts_build_seconds, "SQLite FTS5 (same tokens)",
                                  "entries/s", note="both include jieba segmentation"))
    if jieba_rate and fast_rate:
        comparisons.append(Comparison("segmentation rate", fast_rate, jieba_rate,
                                      "jieba 0.42.1 (pure Python)", "entries/s",
                                      note=f"search mode, {args.jieba_sample:,} entries"))
    print_rows(f"Catalog search: {args.entries:,} entries, {len(parsed)} queries",
               ["step", "seconds", "entries/s"],
               [["segment (jieba-fast-dat)", f"{segment_seconds:.1f}",
                 f"{args.entries / segment_seconds:,.0f}"],
                ["segment + index", f"{index_seconds:.1f}", f"{args.entries / index_seconds:,.0f}"],
                ["rebuild from persisted tokens", f"{reload_seconds:.1f}",
                 f"{args.entries / reload_seconds:,.0f}"]])
    print_comparisons("Datapolis in-memory index vs the peers", comparisons)
    path = write_result("catalog_search", {
        "entries": args.entries, "queries": len(parsed), "seed": args.seed,
        "segment_seconds": segment_seconds, "index_seconds": index_seconds,
        "indexing_rate": args.entries / index_seconds,
        "reload_seconds": reload_seconds, "reload_rate": args.entries / reload_seconds,
        "latency_ms": ours_p, "fts5_latency_ms": peer_p, "like_latency_ms": like_p,
        "fts5_build_seconds": fts_build_seconds,
        "fts5_found_more": mismatches,
        "mean_hits": statistics.fmean(totals),
        "jieba_entries_per_second": jieba_rate, "jieba_fast_dat_entries_per_second": fast_rate,
    }, comparisons)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
