"""The default category scheme for a city government: sectors (行业/领域) and their businesses.

Loosely after the sectors of the national government-data classification guides; a bureau
imports its own with `datapolis security scheme import`.
"""

from __future__ import annotations

from typing import Any

_SECTORS: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("01", "公共管理", "Public administration", [
        ("0101", "政务服务", "Government services"),
        ("0102", "机构编制", "Organisation and staffing"),
        ("0103", "统计", "Statistics"),
        ("0104", "财政税务", "Finance and taxation"),
    ]),
    ("02", "公共安全", "Public security", [
        ("0201", "户籍人口", "Household registration"),
        ("0202", "治安管理", "Public order"),
        ("0203", "应急管理", "Emergency management"),
    ]),
    ("03", "社会保障", "Social security", [
        ("0301", "社会保险", "Social insurance"),
        ("0302", "就业创业", "Employment"),
        ("0303", "社会救助", "Social assistance"),
        ("0304", "养老服务", "Elderly care"),
    ]),
    ("04", "卫生健康", "Health", [
        ("0401", "医疗服务", "Medical services"),
        ("0402", "公共卫生", "Public health"),
        ("0403", "医疗保障", "Medical insurance"),
    ]),
    ("05", "教育文化", "Education and culture", [
        ("0501", "学历教育", "Schooling"),
        ("0502", "文化旅游", "Culture and tourism"),
    ]),
    ("06", "市场监管", "Market regulation", [
        ("0601", "市场主体登记", "Business registration"),
        ("0602", "食品药品安全", "Food and drug safety"),
        ("0603", "信用监管", "Credit supervision"),
    ]),
    ("07", "自然资源", "Natural resources", [
        ("0701", "不动产登记", "Real estate registration"),
        ("0702", "国土空间规划", "Spatial planning"),
        ("0703", "生态环境", "Ecology and environment"),
    ]),
    ("08", "住房城乡建设", "Housing and construction", [
        ("0801", "住房保障", "Housing security"),
        ("0802", "城市管理", "Urban management"),
        ("0803", "公用事业", "Utilities (water, gas, heating)"),
    ]),
    ("09", "交通运输", "Transport", [
        ("0901", "道路运输", "Road transport"),
        ("0902", "机动车与驾驶人", "Vehicles and drivers"),
        ("0903", "公共交通", "Public transport"),
    ]),
    ("10", "经济发展", "Economy", [
        ("1001", "工业和信息化", "Industry and IT"),
        ("1002", "农业农村", "Agriculture and rural affairs"),
        ("1003", "商务", "Commerce"),
    ]),
]


def default_scheme() -> dict[str, Any]:
    """The default scheme as an import document (the same shape `export` writes)."""
    return {"sectors": [
        {"code": code, "name": name, "name_en": name_en,
         "businesses": [{"code": b_code, "name": b_name, "name_en": b_en}
                        for b_code, b_name, b_en in businesses]}
        for code, name, name_en, businesses in _SECTORS
    ]}
