"""The portal's themes (主题): our own SKOS concept scheme, each theme matched to the EU
data-theme vocabulary, so CKAN groups and DCAT `dcat:theme` agree.

The catalog's classification has no theme names (项 codes are local), so a dataset's theme is
chosen from what it says about itself: the basic libraries have fixed themes; any other entry
takes the theme whose keywords occur most often in its tags (counted twice) and name, and the
first theme of the list on a tie; an entry that matches none is filed under government.
"""

from __future__ import annotations

from dataclasses import dataclass

from datapolis.catalog.enums import CatalogType

EU_DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"


@dataclass(frozen=True)
class Theme:
    code: str  # stable; the CKAN group name and the last segment of the concept's IRI
    name: str  # the English label
    name_zh: str  # the Chinese label, also carried in the RDF
    eu: str  # the EU data-theme code it matches (ECON, SOCI, ...)
    keywords: tuple[str, ...]


THEMES: tuple[Theme, ...] = (
    Theme("economy", "Economy and enterprises", "经济建设", "ECON",
          ("企业", "经济", "市场", "工商", "股东", "投资", "出资", "产业", "商贸", "个体")),
    Theme("credit", "Credit services", "信用服务", "ECON",
          ("信用", "失信", "处罚", "许可", "双公示", "红黑名单")),
    Theme("education", "Education, science and technology", "教育科技", "EDUC",
          ("教育", "学历", "学校", "学位", "学籍", "科技", "人才", "文化")),
    Theme("health", "Health", "卫生健康", "HEAL",
          ("医疗", "卫生", "健康", "医院", "接种", "疾病", "药品")),
    Theme("social", "Livelihood and social security", "民生服务", "SOCI",
          ("人口", "户籍", "家庭", "社保", "就业", "养老", "低保", "救助", "婚姻", "残疾",
           "民政", "老人")),
    Theme("environment", "Resources and environment", "资源环境", "ENVI",
          ("环境", "生态", "水质", "空气", "污染", "气象", "自然资源", "林业")),
    Theme("urban", "Urban construction and housing", "城市建设", "REGI",
          ("不动产", "房屋", "住房", "土地", "城市", "网格", "地址", "门牌", "规划", "建设")),
    Theme("transport", "Transport", "交通出行", "TRAN",
          ("交通", "道路", "公交", "车辆", "出行", "停车", "客运")),
    Theme("utilities", "Energy and public utilities", "公用事业", "ENER",
          ("供水", "用水", "水费", "抄表", "燃气", "供热", "电力", "能源")),
    Theme("agriculture", "Agriculture and rural affairs", "农业农村", "AGRI",
          ("农业", "农村", "种植", "养殖", "农产品", "乡村")),
    Theme("safety", "Public safety", "公共安全", "JUST",
          ("公安", "治安", "消防", "应急", "安全生产", "司法", "法律")),
    Theme("government", "Government and public administration", "政府治理", "GOVE",
          ("政务", "机构", "基层治理", "事件", "证照", "办件")),
)
BY_CODE = {theme.code: theme for theme in THEMES}
FALLBACK = BY_CODE["government"]
FIXED: dict[CatalogType, Theme] = {
    CatalogType.BASIC_POPULATION: BY_CODE["social"],
    CatalogType.BASIC_LEGAL_ENTITY: BY_CODE["economy"],
    CatalogType.BASIC_GEOSPATIAL: BY_CODE["urban"],
    CatalogType.BASIC_CREDIT: BY_CODE["credit"],
    CatalogType.BASIC_LICENCE: BY_CODE["government"],
}


def theme_of(catalog_type: CatalogType, name: str, tags: list[str] | tuple[str, ...]) -> Theme:
    fixed = FIXED.get(catalog_type)
    if fixed is not None:
        return fixed
    best, best_score = FALLBACK, 0
    for theme in THEMES:
        score = sum(2 * (word in tag) for tag in tags for word in theme.keywords)
        score += sum(word in name for word in theme.keywords)
        if score > best_score:
            best, best_score = theme, score
    return best
