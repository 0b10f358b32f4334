"""National identifiers, generated for whole columns at once.

GB 11643 resident ID numbers, GB 11714 organisation codes inside GB 32100 unified social
credit codes, mobile and landline numbers, UnionPay card numbers (Luhn), passports, plates.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from datapolis.demo.vec import Days, Ints, ascii_matrix, cat, date_parts, digit_matrix, num, take
from datapolis.demo.vocab import BANKS, MOBILE_PREFIXES, PLATE_LETTERS

_RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28],
                         dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


def _lookup(alphabet: str) -> npt.NDArray[np.uint8]:
    return np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)


def resident_ids(division: Ints, birth: Days, order: Ints) -> pa.Array:
    """18-digit GB 11643 numbers; `order` is the 3-digit sequence (odd for men)."""
    y, m, d = date_parts(birth)
    body = division * 10**11 + (y * 10000 + m * 100 + d) * 1000 + order
    digits = digit_matrix(body, 17)
    check = (digits @ _RIC_WEIGHTS) % 11
    codes = np.empty((len(body), 18), dtype=np.uint8)
    codes[:, :17] = digits + 48
    codes[:, 17] = _lookup(RIC_CHECK)[check]
    return ascii_matrix(codes)


def legacy_ids(ids18: pa.Array) -> pa.Array:
    """First-generation 15-digit numbers: no century, no check digit."""
    return cat(pc.utf8_slice_codeunits(ids18, 0, 6), pc.utf8_slice_codeunits(ids18, 8, 17))


def wrong_check(rng: np.random.Generator, values: pa.Array, alphabet: str) -> pa.Array:
    """The same numbers with a last character that is certainly wrong."""
    last = pc.utf8_slice_codeunits(values, -1, None).to_numpy(zero_copy_only=False)
    index = {c: i for i, c in enumerate(alphabet)}
    current = np.array([index.get(c, 0) for c in last], dtype=np.int64)
    shifted = (current + rng.integers(1, len(alphabet), size=len(current))) % len(alphabet)
    return cat(pc.utf8_slice_codeunits(values, 0, -1), take(list(alphabet), shifted))


def credit_codes(rng: np.random.Generator, division: Ints, modern: npt.NDArray[np.bool_],
                 entity_type: str = "1") -> pa.Array:
    """GB 32100 codes: 9 + entity type + division + GB 11714 organisation code + check.

    Codes issued since the 2015 reform carry an organisation code starting with MA; older
    enterprises kept their all-digit organisation code.
    """
    n = len(division)
    values = np.empty((n, 18), dtype=np.int64)  # indices into USCC_ALPHABET
    values[:, 0] = 9
    values[:, 1] = int(entity_type)
    values[:, 2:8] = digit_matrix(division, 6)
    body = rng.integers(0, 10, size=(n, 8))
    letters = rng.integers(0, len(USCC_ALPHABET), size=(n, 6))
    body[modern, 0] = USCC_ALPHABET.index("M")
    body[modern, 1] = USCC_ALPHABET.index("A")
    body[modern, 2:] = letters[modern]
    values[:, 8:16] = body
    # GB 11714 weighs letters by their position in the Latin alphabet (A=10 ... Z=35).
    ascii_codes = _lookup(USCC_ALPHABET)[body].astype(np.int64)
    org_values = np.where(ascii_codes >= 65, ascii_codes - 55, ascii_codes - 48)
    org_check = 11 - (org_values @ _ORG_WEIGHTS) % 11
    values[:, 16] = np.where(org_check == 10, USCC_ALPHABET.index("X"),
                             np.where(org_check == 11, 0, org_check))
    values[:, 17] = (31 - (values[:, :17] @ _USCC_WEIGHTS) % 31) % 31
    return ascii_matrix(_lookup(USCC_ALPHABET)[values])


def mobiles(rng: np.random.Generator, n: int) -> pa.Array:
    prefix = np.array([int(p) for p in MOBILE_PREFIXES], dtype=np.int64)
    numbers = prefix[rng.integers(0, len(prefix), size=n)] * 10**8
    return num(numbers + rng.integers(0, 10**8, size=n))


def landlines(rng: np.random.Generator, n: int, area: str = "0539") -> pa.Array:
    return cat(area + "-", num(rng.integers(2_000_000, 9_000_000, size=n)))


def bank_cards(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """19-digit UnionPay debit card numbers with a valid Luhn digit, and the bank's name."""
    bank = rng.integers(0, len(BANKS), size=n)
    bins = np.array([int(b) for b, _ in BANKS], dtype=np.int64)[bank]
    digits = np.concatenate([digit_matrix(bins, 6), rng.integers(0, 10, size=(n, 12))], axis=1)
    doubled = digits.copy()
    odd = doubled[:, ::-1][:, ::2]  # every second digit, starting next to the check digit
    odd *= 2
    odd[odd > 9] -= 9
    check = (10 - doubled.sum(axis=1) % 10) % 10
    codes = np.concatenate([digits, check[:, None]], axis=1).astype(np.uint8) + 48
    return ascii_matrix(codes), take([name for _, name in BANKS], bank)


def passports(rng: np.random.Generator, n: int) -> pa.Array:
    return cat("E", num(rng.integers(0, 10**8, size=n), 8))


def plates(rng: np.random.Generator, n: int) -> pa.Array:
    """Linyi plates: 鲁Q, a letter, then four digits or letters (mostly digits)."""
    first = rng.integers(0, len(PLATE_LETTERS), size=n)
    tail = rng.integers(0, 10_000, size=n)
    return cat("鲁Q", take(list(PLATE_LETTERS), first), num(tail, 4))


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def org_code_valid(code: str) -> bool:
    """GB 11714 check of a 9-character organisation code."""
    values = [ord(c) - 55 if c.isalpha() else int(c) for c in code[:8]]
    check = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS.tolist(), strict=True)) % 11
    return code[8] == {10: "X", 11: "0"}.get(check, str(check))
