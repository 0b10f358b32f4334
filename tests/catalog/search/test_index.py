"""The engine alone: plain documents in, Chinese queries, ranking, facets, paging, changes."""

from __future__ import annotations

import pytest

from datapolis.catalog.search.documents import Document, analyze
from datapolis.catalog.search.index import SearchIndex
from datapolis.catalog.search.query import MAX_QUERY_CHARS, parse_query
from datapolis.errors import UserError

FACETS = ("provider", "share")


def doc(doc_id: int, name: str, *, summary: str = "", tags: tuple[str, ...] = (),
        items: tuple[str, ...] = (), provider: str = "gaj", share: str = "conditional",
        code: str = "") -> Document:
    return Document(doc_id, {"name": name, "summary": summary, "tags": list(tags),
                             "items": list(items), "code": code},
                    {"provider": provider, "share": share})


CORPUS = [
    doc(1, "常住人口基本信息", summary="临沂市常住人口的身份、户籍与联系方式信息。",
        tags=("人口", "户籍"), items=("公民身份号码", "姓名", "户籍地址"), code="101001/000001"),
    doc(2, "城乡低保人员名单", summary="民政局发放最低生活保障金的人员名单。", tags=("低保",),
        items=("姓名", "公民身份号码", "保障金额"), provider="mzj", share="unconditional"),
    doc(3, "企业登记信息", summary="市场主体的统一社会信用代码、营业执照和法定代表人。",
        tags=("法人",), items=("统一社会信用代码", "企业名称", "法定代表人"), provider="scjgj",
        share="unconditional"),
    doc(4, "不动产登记信息", summary="不动产权证书与房屋坐落，按 GB/T 2260 行政区划编码。",
        items=("不动产单元号", "权利人", "房屋坐落"), provider="zrzyj"),
    doc(5, "网格化管理事件", summary="网格员上报的城市管理事件及处置结果。", tags=("网格化",),
        items=("事件编号", "事件类型", "上报时间"), provider="zfj", share="not_shared"),
    doc(6, "流动人口居住登记", summary="流动人口在临沂市的居住登记与居住证信息。",
        tags=("人口",), items=("公民身份号码", "居住地址"), share="unconditional"),
    doc(7, "高等教育学历信息", summary="本市户籍人员的学历证书信息。", tags=("学历",),
        items=("公民身份号码", "学历层次", "毕业院校"), provider="jyj"),
]


@pytest.fixture
def index() -> SearchIndex:
    built = SearchIndex(FACETS)
    for document in CORPUS:
        built.add(analyze(document))
    return built


def ids(index: SearchIndex, query: str, **options: object) -> list[int]:
    return [hit.id for hit in index.search(parse_query(query), **options).hits]  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "first"), [
    ("临沂 户籍 人口", 1),
    ("低保人员名单", 2),
    ("企业登记", 3),
    ("统一社会信用代码", 3),
    ("不动产", 4),
    ("网格化", 5),
    ("学历", 7),
    ("居住证", 6),
    ("101001/000001", 1),
])
def test_chinese_queries_rank_the_obvious_entry_first(
    index: SearchIndex, query: str, first: int
) -> None:
    assert ids(index, query)[0] == first


def test_every_word_must_match(index: SearchIndex) -> None:
    assert ids(index, "登记") and set(ids(index, "登记")) == {3, 4, 6}
    assert ids(index, "低保 企业") == []
    assert set(ids(index, "人口")) == {1, 6}


def test_name_outranks_tags_items_and_summary(index: SearchIndex) -> None:
    # 户籍: a tag of 1 and in the summaries of 1 and 7; 学历 is 7's name word.
    assert ids(index, "户籍")[0] == 1
    # 公民身份号码 is an item of four entries; none has it in its name: all found.
    assert set(ids(index, "公民身份号码")) == {1, 2, 6, 7}


def test_a_word_the_segmenter_cut_differently_is_found_by_its_bigrams() -> None:
    index = SearchIndex(FACETS)
    # The segmenter reads 房屋坐落 here as 房屋/坐落 and 屋坐 is no word; the query 屋坐落
    # (an odd fragment) still finds the entry through the bigrams 屋坐 and 坐落.
    index.add(analyze(doc(1, "房屋坐落清单")))
    index.add(analyze(doc(2, "房屋清单")))
    assert ids(index, "屋坐落") == [1]
    # One Chinese character finds every entry containing it.
    assert set(ids(index, "屋")) == {1, 2}


def test_latin_and_digit_tokens_are_lower_case_and_full_width_is_folded(
    index: SearchIndex,
) -> None:
    assert ids(index, "gb/t 2260") == [4]
    assert ids(index, "ＧＢ／Ｔ　２２６０") == [4]
    assert ids(index, "GB") == [4]


def test_facets_count_the_current_query_and_filters_combine(index: SearchIndex) -> None:
    found = index.search(parse_query("公民身份号码"), facets=FACETS)
    assert found.total == 4
    assert found.facets["provider"] == {"gaj": 2, "jyj": 1, "mzj": 1}
    assert found.facets["share"] == {"conditional": 2, "unconditional": 2}
    # Two values of one facet: either; two facets: both.
    either = index.search(parse_query("公民身份号码"), filters={"provider": ["gaj", "mzj"]},
                          facets=FACETS)
    assert {hit.id for hit in either.hits} == {1, 2, 6}
    both = index.search(parse_query("公民身份号码"),
                        filters={"provider": ["gaj", "mzj"], "share": ["unconditional"]},
                        facets=FACETS)
    assert {hit.id for hit in both.hits} == {2, 6}
    # A facet is counted with the other facets' filters only, so its other values stay offered.
    assert both.facets["provider"] == {"gaj": 1, "mzj": 1}
    assert both.facets["share"] == {"conditional": 1, "unconditional": 2}


def test_visibility_is_any_of_its_conditions(index: SearchIndex) -> None:
    visible = [("share", ["unconditional"]), ("provider", ["zrzyj"])]
    assert set(ids(index, "登记", visible=visible)) == {3, 4, 6}
    assert set(ids(index, "", visible=[("provider", ["jyj"])])) == {7}
    assert ids(index, "", visible=[]) == []


def test_paging_is_stable_and_complete(index: SearchIndex) -> None:
    everything = ids(index, "信息", limit=100)
    pages = [ids(index, "信息", offset=start, limit=2) for start in range(0, 8, 2)]
    assert [i for page in pages for i in page] == everything
    assert index.search(parse_query("信息"), limit=2).total == len(everything)
    # Without words: every document, newest (highest id) first.
    assert ids(index, "", limit=3) == [7, 6, 5]


def test_updates_and_deletes_are_reflected(index: SearchIndex) -> None:
    index.add(analyze(doc(3, "企业年报信息", provider="scjgj")))
    assert ids(index, "企业登记") == []
    assert ids(index, "年报") == [3]
    index.remove(4)
    assert 4 not in ids(index, "登记")
    assert len(index) == len(CORPUS) - 1
    index.remove(4)  # removing twice is harmless
    assert len(index) == len(CORPUS) - 1


def test_compaction_keeps_results_identical() -> None:
    index = SearchIndex(FACETS)
    for round_ in range(3):
        for i in range(1_500):
            index.add(analyze(doc(i, f"第{round_}批人口数据{i}", provider=f"p{i % 7}")))
    found = index.search(parse_query("人口"), facets=FACETS, limit=5)
    assert found.total == 1_500
    assert sum(found.facets["provider"].values()) == 1_500
    assert ids(index, "第2批 1499") == [1499]
    assert ids(index, "第1批人口数据7") == []
    assert len(index) == 1_500


@pytest.mark.parametrize(("query", "expected"), [
    ("'; DROP TABLE catalog_entries; --", []),
    ("户籍 OR 1=1", []),
    ("<script>alert(1)</script>", []),
    ("户籍\u200b人口", [1]),  # a zero-width space separates like a space
    (r"\%_*?", [7, 6, 5, 4, 3, 2, 1]),  # nothing left to look for: everything
    ("😀🚀", [7, 6, 5, 4, 3, 2, 1]),
])
def test_odd_and_sql_like_text_is_only_text(
    index: SearchIndex, query: str, expected: list[int]
) -> None:
    assert ids(index, query) == expected


def test_bad_input_is_refused_with_a_clear_message(index: SearchIndex) -> None:
    with pytest.raises(UserError, match=f"at most {MAX_QUERY_CHARS}"):
        parse_query("户" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(UserError, match="unknown facet"):
        index.search(parse_query("人口"), filters={"colour": ["red"]})
    with pytest.raises(UserError, match="paged up to"):
        index.search(parse_query("人口"), offset=20_000)
    assert parse_query("   ").empty
    assert parse_query("的 和 与").empty
