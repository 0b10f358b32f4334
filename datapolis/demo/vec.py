"""Vectorised building blocks: seeded generators, string columns from numbers and word lists."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Ints = npt.NDArray[np.int64]
Days = npt.NDArray[np.datetime64]
Mask = npt.NDArray[np.bool_]

# Everything in the demo is "as of" this day, so two builds with one seed are identical.
AS_OF = date(2026, 5, 31)
AS_OF_DAY = np.datetime64(AS_OF.isoformat(), "D")


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """An independent stream per (seed, names), stable across runs and processes."""
    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF]
    words += [zlib.crc32(name.encode()) for name in names]
    return np.random.default_rng(np.random.SeedSequence(words))


def weighted(rng: np.random.Generator, n: int,
             weights: Sequence[float] | npt.NDArray[np.float64]) -> Ints:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int64)


def lookup(values: np.ndarray, mapping: dict[str, object]) -> np.ndarray:
    """Map every element through `mapping`, touching each distinct value once."""
    keys, inverse = np.unique(values, return_inverse=True)
    return np.array([mapping[str(k)] for k in keys])[inverse.ravel()]


def strings(values: Sequence[str]) -> pa.StringArray:
    return pa.array(list(values), type=pa.string())


def take(values: Sequence[str] | pa.Array, idx: npt.NDArray[np.integer]) -> pa.Array:
    vocab = values if isinstance(values, pa.Array) else strings(values)
    return vocab.take(pa.array(idx))


def cat(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string columns and literals element-wise (a null part gives null)."""
    args = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, pa.scalar("", pa.string()))


def num(values: npt.NDArray[np.integer], width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(values, pa.int64()), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def ascii_matrix(codes: npt.NDArray[np.uint8]) -> pa.Array:
    """Rows of ASCII codes (n, k) -> a string column of k-character values."""
    k = codes.shape[1]
    raw = np.ascontiguousarray(codes, dtype=np.uint8).view(f"S{k}").ravel()
    return pc.cast(pa.array(raw, pa.binary(k)), pa.string())


def digit_matrix(values: Ints, width: int) -> Ints:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def where(mask: Mask, then: pa.Array, otherwise: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), then, otherwise)


def dates(days: Days) -> pa.Array:
    return pa.array(days.astype("datetime64[D]"), pa.date32())


def timestamps(seconds: npt.NDArray[np.datetime64]) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]"), pa.timestamp("s"))


def date_parts(days: Days) -> tuple[Ints, Ints, Ints]:
    d = days.astype("datetime64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    months = (d.astype("datetime64[M]").astype(np.int64) % 12) + 1
    first = d.astype("datetime64[M]").astype("datetime64[D]")
    day = (d - first).astype(np.int64) + 1
    return years, months, day


DATE_STYLES = ("iso", "slash", "compact", "chinese")


def date_text(days: Days, style: str = "iso") -> pa.Array:
    """Dates as text the way Chinese business systems write them."""
    y, m, d = date_parts(days)
    if style == "iso":
        return cat(num(y), "-", num(m, 2), "-", num(d, 2))
    if style == "slash":
        return cat(num(y), "/", num(m), "/", num(d))
    if style == "compact":
        return cat(num(y), num(m, 2), num(d, 2))
    if style == "chinese":
        return cat(num(y), "年", num(m), "月", num(d), "日")
    raise ValueError(style)


def random_days(rng: np.random.Generator, n: int, start: str, end: str) -> Days:
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    span = int((hi - lo).astype(np.int64))
    return lo + rng.integers(0, span + 1, size=n).astype("timedelta64[D]")


def random_times(rng: np.random.Generator, days: Days) -> npt.NDArray[np.datetime64]:
    """A working-hours moment (08:00-18:00) on each day."""
    seconds = rng.integers(8 * 3600, 18 * 3600, size=len(days)).astype("timedelta64[s]")
    moments: npt.NDArray[np.datetime64] = days.astype("datetime64[s]") + seconds
    return moments


def rank_within(groups: Ints) -> Ints:
    """0, 1, 2 ... within each group value, in order of appearance."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
    idx = np.arange(len(groups))
    first = np.maximum.accumulate(np.where(starts, idx, 0))
    ranks = np.empty(len(groups), dtype=np.int64)
    ranks[order] = idx - first
    return ranks


_FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"}


def fullwidth(values: pa.Array) -> pa.Array:
    """ASCII digits, letters and spaces replaced by their full-width forms."""
    out = values
    for half in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz- ":
        out = pc.replace_substring(out, half, _FULLWIDTH[half])
    return out
