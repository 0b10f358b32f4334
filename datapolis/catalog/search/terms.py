"""Government-data words the segmenter must keep whole (its general dictionary splits them).

Each is added with a frequency high enough to win over the general dictionary's split, so
`统一社会信用代码` stays one word in the precise cut; the search-mode cut still emits its
parts (统一, 社会, 信用, 代码), so a query for any of them finds the entry too.
"""

from __future__ import annotations

# Kept in one tuple so that changing it changes ANALYZER_VERSION (see analyzer.py) and every
# persisted entry is re-segmented on the next load.
GOVERNMENT_TERMS: tuple[str, ...] = (
    # population and civil affairs
    "户籍", "户籍地址", "常住人口", "流动人口", "户籍人口", "公民身份号码", "身份证号码",
    "低保", "低保人员", "低保对象", "低保户", "特困供养", "特困人员", "残疾人证", "婚姻登记",
    "出生医学证明", "死亡医学证明", "殡葬", "退役军人", "优抚对象", "养老保险", "医疗保险",
    "失业保险", "工伤保险", "社会保障卡", "社保卡", "参保人员", "参保缴费", "独生子女",
    # legal entities, credit, licences
    "统一社会信用代码", "法定代表人", "营业执照", "市场主体", "个体工商户", "企业登记",
    "行政许可", "行政处罚", "双公示", "失信被执行人", "信用承诺", "红黑名单", "电子证照",
    "注册资本", "经营范围", "经营异常名录", "食品经营许可证", "建设工程规划许可证",
    # land, property, space
    "不动产", "不动产登记", "不动产权证书", "不动产单元号", "宗地", "宗地代码", "房屋坐落",
    "土地利用", "国土空间", "自然资源", "地理信息", "网格化", "网格员", "网格化管理",
    "城市部件", "门牌地址", "标准地址",
    # education, health, housing, utilities
    "学历", "学历证书", "学位证书", "学籍", "义务教育", "公积金", "住房公积金", "公租房",
    "电子健康档案", "预防接种", "水费", "欠费", "用水户", "燃气", "供热",
    # government data vocabulary
    "政务信息资源", "信息资源目录", "数据元", "码表", "信息项", "共享交换", "数据共享",
    "数据开放", "无条件共享", "有条件共享", "不予共享", "大数据局", "一网通办", "一网统管",
    "政务服务", "接诉即办", "行政区划", "行政区划代码", "街道办事处",
    "居委会", "村委会", "村居", "镇街", "双随机", "一表通", "数据比对", "数据返还",
)
