"""Check characters of GB 11643 resident IDs and GB 32100 credit codes, as SQL expressions.

Computed by the warehouse itself (string functions, the 17 weighted terms unrolled), never by
a Python function called per row: a UDF would cost a round trip through Python per value. The
results agree with datapolis.security.classify.validators (tests run both on the same values).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
ID_CHECK_CHARS = "10X98765432"
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# GB/T 2260 province-level codes (the first two digits of every resident ID), as the
# classifier's validator knows them.
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
             "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
             "63", "64", "65", "71", "81", "82", "83"]


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _num(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def _str(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _char(value: exp.Expr, position: int) -> exp.Expr:
    return _fn("substr", value, _num(position), _num(1))


def _weighted_sum(terms: Sequence[exp.Expr]) -> exp.Expr:
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return exp.Paren(this=total)


def id_digits(value: exp.Expr) -> exp.Expr:
    """The first 17 characters of an ID as one number (NULL when they are not digits); the
    check digit is then integer arithmetic on it, three times faster than 17 substrings."""
    return exp.TryCast(this=_fn("substr", value, _num(1), _num(17)),
                       to=exp.DataType.build("BIGINT"))


def resident_id_invalid(value: exp.Expr, digits: exp.Expr, divisions: exp.Expr | None
                        ) -> exp.Expr:
    """True when the non-null `value` (text) is not a valid 18-character resident ID: digits,
    a province (or, with `divisions`, a six-digit division listed there), a real birth date,
    the check character. `digits` is `id_digits(value)`, computed once per row by the caller.
    CASE guards the arithmetic: it runs only on values of the right shape."""
    terms = [exp.Mul(this=exp.Paren(this=exp.Mod(
        this=exp.IntDiv(this=digits, expression=_num(10 ** (16 - i))), expression=_num(10))),
        expression=_num(w)) for i, w in enumerate(ID_WEIGHTS)]
    # The check character's code, lower-cased by `| 32` (digits keep theirs, X becomes x) and
    # compared with the 18th character's, lower-cased the same way: no string is built per row.
    codes = exp.Array(expressions=[_num(ord(c) | 32) for c in ID_CHECK_CHARS])
    check = _fn("list_extract", codes, exp.Add(
        this=exp.Mod(this=_weighted_sum(terms), expression=_num(11)), expression=_num(1)))
    given = exp.BitwiseOr(this=_fn("ascii", _char(value, 18)), expression=_num(32))
    birth = _fn("try_strptime", _fn("substr", value, _num(7), _num(8)), _str("%Y%m%d"))
    # Place and year read from the number too: integer comparisons, not substrings.
    if divisions is None:
        place: exp.Expr = _fn("list_contains", exp.Array(expressions=[
            _num(int(p)) for p in PROVINCES]), exp.IntDiv(this=digits, expression=_num(10 ** 15)))
    else:
        place = _fn("list_contains", divisions, exp.IntDiv(this=digits, expression=_num(10 ** 11)))
    year = exp.Mod(this=exp.IntDiv(this=digits, expression=_num(10 ** 7)), expression=_num(10_000))
    return exp.Case(ifs=[
        exp.If(this=exp.Not(this=_fn("regexp_full_match", value, _str("[0-9]{17}[0-9Xx]"))),
               true=exp.true()),
        exp.If(this=exp.Not(this=place), true=exp.true()),
        exp.If(this=exp.Is(this=birth, expression=exp.Null()), true=exp.true()),
        # strptime takes year 0; a Python date (the classifier's validator) does not
        exp.If(this=exp.EQ(this=year, expression=_num(0)), true=exp.true()),
    ], default=exp.NEQ(this=check, expression=given))


def credit_code_valid(value: exp.Expr) -> exp.Expr:
    """True when `value` (text, any case) is a GB 32100 unified social credit code: 18
    characters, eight digits first, the rest from the code alphabet, and the check char."""
    upper = _fn("upper", value)
    terms = [exp.Mul(this=exp.Paren(this=exp.Sub(this=_fn("strpos", _str(CREDIT_ALPHABET),
                                                          _char(upper, i + 1)),
                                                  expression=_num(1))),
                     expression=_num(w)) for i, w in enumerate(CREDIT_WEIGHTS)]
    # (31 - total % 31) % 31 as a 1-based position in the alphabet
    position = exp.Add(this=exp.Mod(this=exp.Paren(this=exp.Sub(
        this=_num(31), expression=exp.Mod(this=_weighted_sum(terms), expression=_num(31)))),
        expression=_num(31)), expression=_num(1))
    return exp.and_(
        _fn("regexp_full_match", upper, _str("[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}")),
        exp.EQ(this=_fn("substr", _str(CREDIT_ALPHABET), position, _num(1)),
               expression=_char(upper, 18)),
    )
