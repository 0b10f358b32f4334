"""De-identification methods (GB/T 37964): each turns one column into a DuckDB SQL expression.

Methods are plugins in one registry; the built-ins register themselves the same way an outside
method would. A method's parameters are validated ints, choices from a fixed list, or short
lower-case names (used only in warehouse table names, never in an expression), so nothing a
user types ever becomes SQL text: columns pass through `quote_identifier`, numbers are
rendered by `int()`, choices come from the method's own list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from datapolis.errors import UserError

MASK_CHARS = ("*", "#", "X", "×", "●")
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class DeidError(UserError):
    """An unknown method, a bad parameter, or a plan that cannot be applied."""


class Keys(Protocol):
    """What a method may ask of the release or consumer key (see `keys.py`)."""

    def pseudonym_sql(self, column_sql: str, column: str) -> str:
        """SQL for the column's HMAC-SM3 pseudonym: a joined pseudonym table's column, or a
        call of the key's function."""

    def seed(self, column: str) -> int:
        """A secret 63-bit seed for one column's noise, fixed by key and column."""

    @property
    def row_id_sql(self) -> str | None:
        """The quoted column naming a row, when the table has one; noise is drawn per row."""


@dataclass(frozen=True)
class Param:
    default: int | str
    choices: tuple[str, ...] = ()  # a choice parameter when given, an int otherwise
    low: int = 0
    high: int = 1_000_000_000
    name: bool = False  # a short lower-case name ("" for the method's own default)

    def check(self, method: str, name: str, value: object) -> int | str:
        if self.name:
            if not isinstance(value, str) or (value and not NAME.fullmatch(value)):
                raise DeidError(f"{method}: {name} must be a short name of lower-case letters, "
                                f"digits and _, starting with a letter, not {value!r}")
            return value
        if self.choices:
            if value not in self.choices:
                raise DeidError(f"{method}: {name} must be one of {', '.join(self.choices)}, "
                                f"not {value!r}")
            return str(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DeidError(f"{method}: {name} must be a whole number, not {value!r}")
        if not self.low <= value <= self.high:
            raise DeidError(f"{method}: {name} must be between {self.low} and {self.high}")
        return int(value)


Build = Callable[[str, str, Mapping[str, int | str], Keys | None], str]
# The same method on one text value already read, for answers of a few rows: binding an
# expression costs DuckDB more than reading a row (a mask: about 0.3 ms per lookup). It must
# give exactly what the SQL gives for text; tests hold the two to each other.
OnText = Callable[[str, Mapping[str, int | str]], str]


@dataclass(frozen=True)
class Method:
    name: str
    title: str
    build: Build  # (column sql, column name, checked params, keys) -> SQL expression
    params: Mapping[str, Param] = field(default_factory=dict)
    needs_key: bool = False
    on_text: OnText | None = None  # the method on a text value, where it needs no key

    def checked(self, given: Mapping[str, object]) -> dict[str, int | str]:
        unknown = set(given) - set(self.params)
        if unknown:
            raise DeidError(f"{self.name}: unknown parameter {', '.join(sorted(unknown))}; "
                            f"it takes {', '.join(self.params) or 'none'}")
        return {name: spec.check(self.name, name, given.get(name, spec.default))
                for name, spec in self.params.items()}

    def text_function(self, given: Mapping[str, object]) -> Callable[[object], str | None]:
        """The method on one text value (NULL stays NULL), for methods that have `on_text`."""
        if self.on_text is None:
            raise DeidError(f"{self.name} runs only in SQL")
        on_text, checked = self.on_text, self.checked(given)
        return lambda value: None if value is None else on_text(
            value if isinstance(value, str) else str(value), checked)

    def expression(self, column_sql: str, column: str, given: Mapping[str, object],
                   keys: Keys | None = None) -> str:
        if self.needs_key and keys is None:
            raise DeidError(f"{self.name} needs a release or consumer key")
        return self.build(column_sql, column, self.checked(given), keys)


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    if method.name in METHODS:
        raise DeidError(f"a de-identification method {method.name!r} is already registered")
    METHODS[method.name] = method
    return method


def method(name: str) -> Method:
    found = METHODS.get(name)
    if found is None:
        raise DeidError(f"unknown de-identification method {name!r}; "
                        f"known: {', '.join(sorted(METHODS))}")
    return found


# --- the built-ins -------------------------------------------------------------------------

def _text(column_sql: str) -> str:
    return f"CAST({column_sql} AS VARCHAR)"


def _number(column_sql: str) -> str:
    return f"TRY_CAST({column_sql} AS DOUBLE)"


def _keep(column_sql: str, _c: str, _p: Mapping[str, int | str], _k: Keys | None) -> str:
    return column_sql


def _mask(column_sql: str, _c: str, p: Mapping[str, int | str], _k: Keys | None) -> str:
    text, first, last = _text(column_sql), int(p["first"]), int(p["last"])
    char = "'" + str(p["char"]) + "'"  # one of MASK_CHARS, none of which is a quote
    hidden = f"length({text}) - {first + last}"
    # overlay() writes the stars over the middle in one step: a third cheaper on a scan than
    # concat(left(), repeat(), right()), which builds two strings more per value.
    # Too short to show anything without giving most of it away: mask every character.
    # NULL takes the ELSE branch, where repeat() keeps it NULL.
    return (f"CASE WHEN length({text}) > {first + last} THEN overlay({text} PLACING "
            f"repeat({char}, {hidden}) FROM {first + 1} FOR {hidden}) "
            f"ELSE repeat({char}, length({text})) END")


def _mask_text(value: str, p: Mapping[str, int | str]) -> str:
    first, last, char = int(p["first"]), int(p["last"]), str(p["char"])
    # len() and slices count code points, as DuckDB's length() and overlay() do.
    if len(value) <= first + last:
        return char * len(value)
    return value[:first] + char * (len(value) - first - last) + value[len(value) - last:]


def _date(column_sql: str, _c: str, p: Mapping[str, int | str], _k: Keys | None) -> str:
    pattern = "'%Y-%m'" if p["unit"] == "month" else "'%Y'"
    return f"strftime(TRY_CAST({column_sql} AS DATE), {pattern})"


def _band(column_sql: str, _c: str, p: Mapping[str, int | str], _k: Keys | None) -> str:
    width = int(p["width"])
    low = f"CAST(floor({_number(column_sql)} / {width}) * {width} AS BIGINT)"
    return f"CAST({low} AS VARCHAR) || '-' || CAST({low} + {width - 1} AS VARCHAR)"


def _district(column_sql: str, _c: str, _p: Mapping[str, int | str], _k: Keys | None) -> str:
    # Up to the first 区 or 县 (past an 自治区 at province level), else up to the first 市;
    # an address with none of them says nothing safe to keep and becomes NULL. strpos, not a
    # regular expression: ten times faster on a scan.
    text = _text(column_sql)
    skip = f"coalesce(nullif(strpos({text}, '自治区'), 0) + 2, 0)"
    rest = f"substr({text}, {skip} + 1)"
    county = f"least(nullif(strpos({rest}, '区'), 0), nullif(strpos({rest}, '县'), 0))"
    city = f"nullif(strpos({text}, '市'), 0)"
    return (f"CASE WHEN {county} IS NOT NULL THEN left({text}, {skip} + {county}) "
            f"WHEN {city} IS NOT NULL THEN left({text}, {city}) END")


def _pseudonym(column_sql: str, column: str, _p: Mapping[str, int | str],
               k: Keys | None) -> str:
    assert k is not None
    return k.pseudonym_sql(column_sql, column)


def _suppress(_s: str, _c: str, _p: Mapping[str, int | str], _k: Keys | None) -> str:
    return "CAST(NULL AS VARCHAR)"


def _clamp(column_sql: str, _c: str, p: Mapping[str, int | str], _k: Keys | None) -> str:
    low, high = int(p["low"]), int(p["high"])
    if low > high:
        raise DeidError(f"clamp: low {low} is above high {high}")
    number = _number(column_sql)
    # greatest()/least() skip NULLs, which would turn a missing value into a bound.
    return (f"CASE WHEN {number} IS NULL THEN NULL "
            f"ELSE least(greatest({number}, {low}), {high}) END")


_UNIT = 2.0**53


def _noise(column_sql: str, column: str, p: Mapping[str, int | str], k: Keys | None) -> str:
    assert k is not None
    number, scale, digits = _number(column_sql), int(p["scale"]), int(p["digits"])
    # A uniform u in (0, 1) from DuckDB's 64-bit hash of (secret column seed, row id or else
    # the value): the same key reads the same noise again, so averaging re-reads learns nothing.
    row = k.row_id_sql or column_sql
    u = f"((CAST(hash(CAST({k.seed(column)} AS UBIGINT), {row}) >> 11 AS DOUBLE) " \
        f"+ 0.5) / {_UNIT})"
    if p["kind"] == "uniform":
        noise = f"((2 * {u} - 1) * {scale})"
    else:  # Laplace by inverse CDF; |noise| < scale * ln(2^54), about 37 scales
        noise = f"(-{scale} * sign({u} - 0.5) * ln(1 - 2 * abs({u} - 0.5)))"
    return f"round({number} + {noise}, {digits})"


KEEP = register(Method("keep", "shown as stored", _keep))
MASK = register(Method("mask", "masking: keep the first and last characters", _mask, {
    "first": Param(1, high=64), "last": Param(1, high=64), "char": Param("*", MASK_CHARS)},
    on_text=_mask_text))
register(Method("date", "generalisation: date to month or year", _date,
                {"unit": Param("month", ("month", "year"))}))
register(Method("band", "generalisation: number to a band of equal width", _band,
                {"width": Param(5, low=1)}))
register(Method("district", "generalisation: address to its district or county", _district))
# `family` names the pseudonym table a large read joins (pseudonyms.py): columns holding the
# same kind of value (resident IDs in several tables) share one, so each value is hashed once.
# It never changes a pseudonym, which depends on the key and the value alone.
PSEUDONYM = register(Method("pseudonym", "keyed pseudonym (HMAC-SM3)", _pseudonym,
                            {"family": Param("", name=True)}, needs_key=True))
SUPPRESS = register(Method("suppress", "suppression", _suppress))
register(Method("clamp", "top and bottom coding", _clamp, {
    "low": Param(0, low=-(2**62), high=2**62), "high": Param(100, low=-(2**62), high=2**62)}))
register(Method("noise", "noise for numbers (Laplace or uniform, keyed, repeatable)", _noise, {
    "kind": Param("laplace", ("laplace", "uniform")), "scale": Param(1, low=1),
    "digits": Param(0, high=6)}, needs_key=True))
