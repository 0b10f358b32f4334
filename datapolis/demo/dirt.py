"""Realistic dirt in department data, applied column-wise, every dirty cell recorded as truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datapolis.demo import ids
from datapolis.demo.schema import Column, DataKind, Dirt, Table
from datapolis.demo.vec import (
    DATE_STYLES,
    Mask,
    cat,
    date_text,
    fullwidth,
    random_days,
    random_times,
    timestamps,
)
from datapolis.errors import UserError

# Alternative values for CONFLICT dirt: (rng, n) -> n values another department might hold.
Conflicts = dict[str, Callable[[np.random.Generator, int], pa.Array]]


@dataclass(frozen=True)
class DirtRates:
    """Share of eligible cells (or rows, for duplicates) that get each kind of dirt.

    A cell is eligible when its column is declared to suffer that kind and its value can show
    it (only an 18-digit ID of someone born in the 1900s can become a 15-digit legacy ID; only
    a value with ASCII characters can turn full-width, except names, which get an ideographic
    space). The cell kinds of one column share one draw, so their rates must add up to <= 1.
    """

    check_digit: float = 0.005  # wrong final check character of an ID number or credit code
    legacy_id15: float = 0.004  # first-generation 15-digit ID number
    fullwidth: float = 0.01  # full-width digits/letters/spaces in names and addresses
    date_format: float = 0.08  # 2024/1/5, 20240105 or 2024年1月5日 instead of 2024-01-05
    blank: float = 0.01  # empty string or NULL in a field that should be filled
    stale: float = 0.03  # row last updated years ago
    conflict: float = 0.03  # another department holds a different address or birth date
    exact_duplicate: float = 0.003  # the same record entered twice
    near_duplicate: float = 0.004  # the same record entered twice with a small difference

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise UserError(f"dirt rate {f.name} must be between 0 and 1, got {value}")
        cell = sum(getattr(self, k.value) for k in Dirt
                   if k not in (Dirt.EXACT_DUPLICATE, Dirt.NEAR_DUPLICATE))
        if cell > 1.0:
            raise UserError(f"cell dirt rates add up to {cell:.2f}; they must stay <= 1")

    def rate(self, kind: Dirt) -> float:
        return float(getattr(self, kind.value))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


DIRT_SCHEMA = pa.schema([
    ("system", pa.string()), ("table", pa.string()), ("pk", pa.string()),
    ("column", pa.string()), ("kind", pa.string()), ("clean_value", pa.string()),
    ("ref_pk", pa.string()),
])


class DirtLog:
    """Collects (system, table, pk, column, kind, clean value, original pk) of dirty cells."""

    def __init__(self, system: str) -> None:
        self.system = system
        self._parts: list[pa.Table] = []

    def record(self, table: str, pk: pa.Array, column: str | None, kind: Dirt,
               clean: pa.Array | None = None, ref_pk: pa.Array | None = None) -> None:
        n = len(pk)
        if n == 0:
            return
        def text(values: pa.Array | None) -> pa.Array:
            return pa.nulls(n, pa.string()) if values is None else pc.cast(values, pa.string())
        self._parts.append(pa.Table.from_arrays([
            pa.array([self.system] * n, pa.string()), pa.array([table] * n, pa.string()),
            text(pk), pa.array([column] * n, pa.string()), pa.array([kind.value] * n),
            text(clean), text(ref_pk),
        ], schema=DIRT_SCHEMA))

    def table(self) -> pa.Table:
        if not self._parts:
            return DIRT_SCHEMA.empty_table()
        return pa.concat_tables(self._parts)


def apply(rng: np.random.Generator, spec: Table, data: pa.Table, rates: DirtRates,
          log: DirtLog, conflicts: Conflicts | None = None) -> pa.Table:
    """Duplicate some rows, then dirty the declared columns; returns the dirty table."""
    if spec.duplicates:
        data = _duplicate(rng, spec, data, rates, log)
    pk = data.column(spec.pk).combine_chunks()
    for column in spec.columns:
        kinds = [k for k in column.dirt if k not in (Dirt.EXACT_DUPLICATE, Dirt.NEAR_DUPLICATE)]
        if not kinds:
            continue
        values = data.column(column.name).combine_chunks()
        u = rng.random(len(values))
        lo = 0.0
        for kind in kinds:
            hi = lo + rates.rate(kind)
            mask = (u >= lo) & (u < hi) & _eligible(kind, column, values, conflicts)
            lo = hi
            if not mask.any():
                continue
            clean = values.filter(pa.array(mask))
            dirty = _transform(rng, kind, column, clean, conflicts)
            keep = pc.not_equal(dirty, clean).to_numpy(zero_copy_only=False)
            keep = np.where(pc.is_null(dirty).to_numpy(zero_copy_only=False), True, keep)
            if not keep.all():  # an alternative that happens to equal the truth is no dirt
                mask[np.flatnonzero(mask)[~keep]] = False
                clean, dirty = clean.filter(pa.array(keep)), dirty.filter(pa.array(keep))
            values = pc.replace_with_mask(values, pa.array(mask), dirty.cast(values.type))
            log.record(spec.name, pk.filter(pa.array(mask)), column.name, kind, clean)
        data = data.set_column(data.schema.get_field_index(column.name), column.name, values)
    return data


def _eligible(kind: Dirt, column: Column, values: pa.Array, conflicts: Conflicts | None) -> Mask:
    ok = pc.is_valid(values).to_numpy(zero_copy_only=False)
    if pa.types.is_string(values.type):
        ok &= pc.not_equal(pc.fill_null(values, ""), "").to_numpy(zero_copy_only=False)
    if kind is Dirt.CHECK_DIGIT:
        ok &= (pc.utf8_length(pc.fill_null(values, "")).to_numpy(zero_copy_only=False) == 18)
    elif kind is Dirt.LEGACY_ID15:
        century = pc.utf8_slice_codeunits(pc.fill_null(values, ""), 6, 8)
        ok &= pc.equal(century, "19").to_numpy(zero_copy_only=False)
        ok &= (pc.utf8_length(pc.fill_null(values, "")).to_numpy(zero_copy_only=False) == 18)
    elif kind is Dirt.FULLWIDTH and column.kind is not DataKind.PERSON_NAME:
        ok &= pc.match_substring_regex(pc.fill_null(values, ""), "[0-9A-Za-z]").to_numpy(
            zero_copy_only=False)
    elif kind is Dirt.DATE_FORMAT:
        ok &= pc.match_substring_regex(pc.fill_null(values, ""),
                                       r"^\d{4}-\d{2}-\d{2}$").to_numpy(zero_copy_only=False)
    elif (kind is Dirt.CONFLICT and not (conflicts and column.name in conflicts)
          and not (pa.types.is_date(values.type) or pa.types.is_string(values.type))):
        return np.zeros(len(values), dtype=bool)
    return np.asarray(ok, dtype=bool)


def _transform(rng: np.random.Generator, kind: Dirt, column: Column, clean: pa.Array,
               conflicts: Conflicts | None) -> pa.Array:
    n = len(clean)
    if kind is Dirt.CHECK_DIGIT:
        alphabet = ids.USCC_ALPHABET if column.kind is DataKind.CREDIT_CODE else "0123456789X"
        return ids.wrong_check(rng, clean, alphabet)
    if kind is Dirt.LEGACY_ID15:
        return ids.legacy_ids(clean)
    if kind is Dirt.FULLWIDTH:
        if column.kind is DataKind.PERSON_NAME:
            return cat(pc.utf8_slice_codeunits(clean, 0, 1), "\u3000",
                       pc.utf8_slice_codeunits(clean, 1, None))
        return fullwidth(clean)
    if kind is Dirt.DATE_FORMAT:
        days = _days(clean)
        style = rng.integers(1, len(DATE_STYLES), n)
        out = date_text(days, "iso")
        for s in range(1, len(DATE_STYLES)):
            out = pc.if_else(pa.array(style == s), date_text(days, DATE_STYLES[s]), out)
        return out
    if kind is Dirt.BLANK:
        if pa.types.is_string(clean.type):
            return pc.if_else(pa.array(rng.random(n) < 0.5), pa.scalar("", pa.string()),
                              pa.nulls(n, pa.string()))
        return pa.nulls(n, clean.type)
    if kind is Dirt.STALE:
        return timestamps(random_times(rng, random_days(rng, n, "2012-01-01", "2020-12-31")))
    if kind is Dirt.CONFLICT:
        if conflicts and column.name in conflicts:
            return conflicts[column.name](rng, n)
        return _shift_dates(rng, clean)
    raise ValueError(kind)


def _days(values: pa.Array) -> np.ndarray:
    if not pa.types.is_date(values.type):
        values = pc.strptime(values, format="%Y-%m-%d", unit="s")
    days: np.ndarray = np.asarray(values.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    return days


def _shift_dates(rng: np.random.Generator, clean: pa.Array) -> pa.Array:
    """Typical mis-keyed birth dates: a day or month off, or the wrong year."""
    days = _days(clean)
    n = len(days)
    which = rng.integers(0, 3, n)
    delta = np.where(which == 0, rng.integers(1, 28, n),
                     np.where(which == 1, 30 * rng.integers(1, 12, n), 365 * rng.integers(1, 4, n)))
    shifted = days + (delta * np.where(rng.random(n) < 0.5, -1, 1)).astype("timedelta64[D]")
    if pa.types.is_date(clean.type):
        return pa.array(shifted, pa.date32())
    return date_text(shifted, "iso")


def _duplicate(rng: np.random.Generator, spec: Table, data: pa.Table, rates: DirtRates,
               log: DirtLog) -> pa.Table:
    n = data.num_rows
    u = rng.random(n)
    exact = np.flatnonzero(u < rates.exact_duplicate)
    near = np.flatnonzero((u >= rates.exact_duplicate)
                          & (u < rates.exact_duplicate + rates.near_duplicate))
    if len(exact) + len(near) == 0:
        return data
    pk = data.column(spec.pk).combine_chunks()
    next_pk = int(pc.max(pk).as_py() or 0) + 1
    copies = data.take(pa.array(np.r_[exact, near]))
    new_pk = pa.array(np.arange(next_pk, next_pk + copies.num_rows), pa.int64())
    copies = copies.set_column(0, spec.pk, new_pk)
    log.record(spec.name, new_pk[: len(exact)], None, Dirt.EXACT_DUPLICATE,
               ref_pk=pk.take(pa.array(exact)))
    near_rows = np.arange(len(exact), copies.num_rows)
    candidates = [c for c in spec.columns
                  if c.kind in (DataKind.PERSON_NAME, DataKind.ADDRESS)]
    choice = rng.integers(0, len(candidates), len(near_rows))
    for ci, column in enumerate(candidates):
        rows = near_rows[choice == ci]
        if len(rows) == 0:
            continue
        index = copies.schema.get_field_index(column.name)
        values = copies.column(index).combine_chunks()
        clean = values.take(pa.array(rows))
        if column.kind is DataKind.ADDRESS:
            changed = pc.replace_substring_regex(clean, "^山东省", "")
            changed = pc.if_else(pc.equal(changed, clean), cat(clean, "附近"), changed)
        else:  # a trailing space typed by the clerk
            changed = cat(clean, " ")
        mask = np.zeros(copies.num_rows, dtype=bool)
        mask[rows] = True
        values = pc.replace_with_mask(values, pa.array(mask), changed)
        copies = copies.set_column(index, column.name, values)
        log.record(spec.name, new_pk.take(pa.array(rows)), column.name, Dirt.NEAR_DUPLICATE,
                   clean, ref_pk=pk.take(pa.array(near[rows - len(exact)])))
    return pa.concat_tables([data, copies])
