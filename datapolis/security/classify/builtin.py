"""The built-in detectors, registered like any outside one.

Name signals cover the Chinese comment and the pinyin initials departments use for column
names (GA/T 543 and habit): gmsfhm 公民身份号码, sjhm 手机号码, lxdh 联系电话, xm 姓名,
zz 住址, cph 车牌号 …
"""

from __future__ import annotations

from datapolis.security.classify import validators as v
from datapolis.security.classify.registry import Detector, Signal, register

register(Detector(
    "resident_id", "居民身份证号码", "resident ID number", "L4",
    (Signal(1.0, ("身份证", "身份号码", "公民身份"),
            ("gmsfhm", "sfzh", "sfzhm", "sfz", "sfzjhm", "idcard", "id_no")),
     Signal(0.6, ("证件号",), ("zjhm", "zjh", "zjhs"))),
    v.is_resident_id, min_share=0.7))

register(Detector(
    "credit_code", "统一社会信用代码", "unified social credit code", "L1",
    (Signal(1.0, ("统一社会信用代码", "信用代码"), ("tyshxydm", "shxydm", "xydm", "uscc")),),
    v.is_credit_code, min_share=0.7))

register(Detector(
    "mobile", "手机号码", "mobile number", "L3",
    (Signal(1.0, ("手机", "移动电话"), ("sjhm", "sjh", "yddh", "mobile")),
     Signal(0.5, ("联系电话", "电话", "联系方式"), ("lxdh", "dh", "lxfs", "phone", "tel"))),
    v.is_mobile))

register(Detector(
    "landline", "固定电话", "landline number", "L3",
    (Signal(1.0, ("固定电话", "座机", "办公电话"), ("gddh", "bgdh", "zj", "landline")),
     Signal(0.5, ("联系电话", "电话", "联系方式"), ("lxdh", "dh", "lxfs", "phone", "tel"))),
    v.is_landline))

register(Detector(
    "bank_card", "银行卡号", "bank card number", "L4",
    (Signal(1.0, ("银行卡", "卡号", "银行账号"), ("yhkh", "yhzh", "kh", "card_no")),),
    v.is_bank_card))

register(Detector(
    "email", "电子邮箱", "e-mail address", "L3",
    (Signal(1.0, ("邮箱", "电子邮件", "电子信箱"), ("dzyx", "yx", "dzyj", "email", "mail")),),
    v.is_email))

register(Detector(
    "person_name", "姓名", "personal name", "L3",
    (Signal(1.0, ("姓名", "曾用名", "户名", "法定代表人", "联系人", "负责人", "经办人",
                  "申请人", "权利人", "投资人", "上报人", "操作人", "网格员", "户主"),
            ("xm", "cym", "hzxm", "fddbr", "lxr", "fzr", "jbr", "sqr", "qlr", "qlrmc", "tzr",
             "tzrmc", "sbr", "czr", "wgy", "hm", "name")),),
    v.is_person_name, vetoes=("编号", "代码", "编码", "号码", "电话", "证件"), diverse=True))

register(Detector(
    "address", "地址", "address", "L3",
    (Signal(1.0, ("地址", "住址", "住所", "坐落", "居住地", "户籍地"),
            ("dz", "zz", "zs", "zl", "hjdz", "xxdz", "txdz", "jzdz", "jtzz", "ysdz", "fsdz",
             "address", "addr")),),
    v.is_address, min_share=0.7, vetoes=("编码", "代码", "编号")))

register(Detector(
    "licence_plate", "机动车号牌", "licence plate", "L3",
    (Signal(1.0, ("号牌", "车牌"), ("cph", "hphm", "cphm", "plate")),),
    v.is_licence_plate))

register(Detector(
    "passport", "护照号码", "passport number", "L4",
    (Signal(1.0, ("护照",), ("hzhm", "hzh", "passport")),),
    v.is_passport))
