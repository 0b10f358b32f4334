"""Value validators: does one value look like the kind (check digits included)?"""

from __future__ import annotations

import re
import unicodedata

from datapolis.catalog.patterns import PATTERNS
from datapolis.security.classify.surnames import COMPOUND_SURNAMES, SURNAMES

# GB/T 2260 province-level codes: the first two digits of every resident ID issued in China.
_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})


def normalise(value: str) -> str:
    """Full-width to half-width and no spaces: `１２号` and `张　伟` are dirt, not another kind."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))


def is_resident_id(value: str) -> bool:
    # The division is checked at province level only: IDs keep the county code in force when
    # they were issued (Linyi's were 3728xx before 1994), so a current county list rejects
    # real numbers.
    return value[:2] in _PROVINCES and PATTERNS["resident_id"].matches(value)


def is_credit_code(value: str) -> bool:
    return len(value) == 18 and PATTERNS["credit_code"].matches(value.upper())


_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")


def is_mobile(value: str) -> bool:
    return _MOBILE.fullmatch(value.replace("-", "")) is not None


# Area codes: 010 and 02x take 8-digit local numbers; the others (0xxx) 7 or 8 digits. Local
# numbers never start with 0 or 1. An extension may follow (-123, 转123).
_LANDLINE = re.compile(
    r"(?:\+?86-?)?(?:\((?:010|02\d)\)|(?:010|02\d))-?[2-9]\d{7}(?:(?:-|转)\d{1,5})?"
    r"|(?:\+?86-?)?(?:\(0[3-9]\d{2}\)|0[3-9]\d{2})-?[2-9]\d{6,7}(?:(?:-|转)\d{1,5})?")


def is_landline(value: str) -> bool:
    return _LANDLINE.fullmatch(value) is not None


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_bank_card(value: str) -> bool:
    """16–19 digits from a card scheme (3–6: JCB/Amex, Visa, Mastercard, UnionPay 62) and Luhn."""
    digits = value.replace("-", "")
    return (digits.isascii() and digits.isdigit() and 16 <= len(digits) <= 19
            and digits[0] in "3456" and luhn_valid(digits))


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def is_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


_HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,6}[·・][\u4e00-\u9fff]{1,8}")
# Last characters of places, bodies and code-list words, never of a given name.
_NOT_A_NAME_END = frozenset("县区镇乡村市省路街巷道号室楼局司行院校所部门处科组队站委会社厂店场房"
                            "类型态式费证码表单位库")


def is_person_name(value: str) -> bool:
    """A Chinese personal name: 2–4 CJK characters starting with a known surname (or a
    minority name with a middle dot), not ending like a place or an organisation."""
    if _HAN_NAME.fullmatch(value) is None:
        return False
    if "·" in value or "・" in value:
        return True
    if value[-1] in _NOT_A_NAME_END:
        return False
    if value[:2] in COMPOUND_SURNAMES:
        return len(value) >= 3
    return value[0] in SURNAMES


_ADDRESS_LEVELS = (
    re.compile(r"省|自治区|特别行政区"),
    re.compile(r"[^\d]市|[^\d]州|盟"),
    re.compile(r"区|县|旗"),
    re.compile(r"街道|镇|乡"),
    re.compile(r"社区|村|居委会|小区|花园|新城|家园|苑|公寓"),
    re.compile(r"路|街|巷|胡同|大道|弄"),
    re.compile(r"\d+(?:号|弄|栋|幢|号楼|单元|室|层|组)"),
)


def is_address(value: str) -> bool:
    """At least three levels of a Chinese postal address (province … house number) and no
    sentence: 在…路92号发现… is an event description that mentions an address."""
    if not 6 <= len(value) <= 120 or re.search(r"[。，！？；,;!?]", value):
        return False
    if re.search(r"(?:公司|局|委员会|学校|大学|医院|中心|网格|银行)$", value):
        return False
    return sum(1 for level in _ADDRESS_LEVELS if level.search(value)) >= 3


_PROVINCE_ABBREVIATIONS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"[{_PROVINCE_ABBREVIATIONS}][A-HJ-NP-Z]"
    r"(?:[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳领]"  # ordinary: five characters
    r"|[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF])")  # new energy: six, D/F first (small) or last (large)


def is_licence_plate(value: str) -> bool:
    return _PLATE.fullmatch(value.upper()) is not None


# Ordinary passports: E + 8 digits, or E + a letter (not I/O) + 7 digits since the digits ran
# out; G + 8 digits (older booklets); P/S/D + 7 digits (public affairs, service, diplomatic);
# 14/15 + 7 digits (before 2012). Public affairs, service and diplomatic: PE/SE/DE + 7.
_PASSPORT = re.compile(r"E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[PSD]E\d{7}|1[45]\d{7}")


def is_passport(value: str) -> bool:
    return _PASSPORT.fullmatch(value.upper()) is not None
