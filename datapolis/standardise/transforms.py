"""Column transforms of standardisation: a registry of small plugins, each compiling to SQL.

A transform turns one SQL expression into another; a column's chain nests them, so a whole
spec becomes one `SELECT` DuckDB runs vectorised (no per-row Python). Values from a spec
(patterns, aliases, code tables) travel as named parameters through `Params`; the fixed
character tables below are our own constants and are inlined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from datapolis.errors import UserError


class SpecError(UserError):
    """A standardisation spec (or a base-library definition) cannot be used as written."""


@dataclass
class Params:
    """Named parameters collected while compiling; `add` returns the placeholder."""

    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return "$" + name


@dataclass(frozen=True)
class Context:
    """What a transform may need besides its input: the column's type and code tables."""

    column: str
    source_type: str  # the ods column's SQL type, e.g. VARCHAR, DATE, TIMESTAMP
    params: Params
    code_tables: Mapping[str, Mapping[str, str]]  # code table -> raw value -> code


Compile = Callable[[str, Any, Context], str]


@dataclass(frozen=True)
class Transform:
    name: str
    help: str
    compile: Compile
    takes_argument: bool = False


_TRANSFORMS: dict[str, Transform] = {}


def register(name: str, help: str, *, takes_argument: bool = False) -> Callable[[Compile], Compile]:
    def wrap(fn: Compile) -> Compile:
        _TRANSFORMS[name] = Transform(name, help, fn, takes_argument)
        return fn
    return wrap


def get_transform(name: str) -> Transform:
    try:
        return _TRANSFORMS[name]
    except KeyError:
        known = ", ".join(sorted(_TRANSFORMS))
        raise SpecError(f"unknown transform {name!r}; known: {known}") from None


def list_transforms() -> list[Transform]:
    return [_TRANSFORMS[name] for name in sorted(_TRANSFORMS)]


def _text(expr: str, ctx: Context) -> str:
    return expr if ctx.source_type.upper().startswith("VARCHAR") else f"CAST({expr} AS VARCHAR)"


# Ideographic space (U+3000) and no-break space count as white space in department data.
_SPACE = r"[\s\x{3000}\x{00A0}]"
# Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E; U+3000 to a space.
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def _literal(text: str) -> str:
    """A constant of this module as an SQL string (never user input)."""
    return "'" + text.replace("'", "''") + "'"


@register("trim", "remove white space (also ideographic and no-break spaces) at both ends")
def _trim(expr: str, arg: Any, ctx: Context) -> str:
    return f"regexp_replace({_text(expr, ctx)}, '^{_SPACE}+|{_SPACE}+$', '', 'g')"


@register("halfwidth", "full-width letters, digits, punctuation and spaces to half-width")
def _halfwidth(expr: str, arg: Any, ctx: Context) -> str:
    return f"translate({_text(expr, ctx)}, {_literal(_FULL)}, {_literal(_HALF)})"


@register("remove_spaces", "remove every white space inside the value (names: 张　伟 → 张伟)")
def _remove_spaces(expr: str, arg: Any, ctx: Context) -> str:
    return f"regexp_replace({_text(expr, ctx)}, '{_SPACE}+', '', 'g')"


@register("upper", "upper case (x in ID numbers, letters in credit codes)")
def _upper(expr: str, arg: Any, ctx: Context) -> str:
    return f"upper({_text(expr, ctx)})"


@register("blank_to_null", "an empty or all-blank value becomes NULL")
def _blank_to_null(expr: str, arg: Any, ctx: Context) -> str:
    text = _text(expr, ctx)
    return f"CASE WHEN regexp_full_match({text}, '{_SPACE}*') THEN NULL ELSE {text} END"


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d",
                "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
EXCEL_EPOCH = "1899-12-30"  # Excel's day 0 (it counts 1900-02-29, so day 60 onwards agree)


@register("date", "text in mixed formats (2021-03-04, 2021/3/4, 20210304, 2021年3月4日, "
          "Excel serial numbers) to DATE; the argument may list other strptime formats",
          takes_argument=True)
def _date(expr: str, arg: Any, ctx: Context) -> str:
    kind = ctx.source_type.upper()
    if kind == "DATE":
        return expr
    if kind.startswith(("TIMESTAMP", "DATETIME")):
        return f"CAST({expr} AS DATE)"
    formats = list(DATE_FORMATS)
    if arg is not None and arg is not True:
        if not isinstance(arg, list) or not all(isinstance(f, str) for f in arg):
            raise SpecError(f"column {ctx.column}: date takes a list of strptime formats")
        formats = arg + formats
    text = f"trim({_text(expr, ctx)})"
    serial = f"DATE '{EXCEL_EPOCH}' + CAST(floor(CAST({text} AS DOUBLE)) AS INTEGER)"
    return (f"CASE WHEN regexp_full_match({text}, '[1-9][0-9]{{4}}(\\.[0-9]+)?') THEN {serial} "
            f"ELSE CAST(try_strptime({text}, {ctx.params.add(formats)}) AS DATE) END")


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@register("id18", "GB 11643: a first-generation 15-digit ID number to 18 digits (century 19 "
          "and the check digit added); a lower-case x upper-cased")
def _id18(expr: str, arg: Any, ctx: Context) -> str:
    s = f"upper({_text(expr, ctx)})"
    # The 17-digit body is s[1..6] || '19' || s[7..15]; weight each digit where it lands.
    terms = [f"CAST(substr({s}, {i}, 1) AS INTEGER) * {_ID_WEIGHTS[i - 1]}" for i in range(1, 7)]
    terms += [f"{1 * _ID_WEIGHTS[6] + 9 * _ID_WEIGHTS[7]}"]
    terms += [f"CAST(substr({s}, {i - 2}, 1) AS INTEGER) * {_ID_WEIGHTS[i - 1]}"
              for i in range(9, 18)]
    check = f"substr('10X98765432', (({' + '.join(terms)}) % 11) + 1, 1)"
    return (f"CASE WHEN regexp_full_match({s}, '[0-9]{{15}}') "
            f"THEN substr({s}, 1, 6) || '19' || substr({s}, 7, 9) || {check} ELSE {s} END")


@register("code", "map values to a code table's codes by code, name or note (男/M/1 → 1); "
          "argument: the code table, or {table, aliases: {raw: code}, unmapped: keep|null}",
          takes_argument=True)
def _code(expr: str, arg: Any, ctx: Context) -> str:
    if isinstance(arg, str):
        arg = {"table": arg}
    if not isinstance(arg, dict) or not isinstance(arg.get("table"), str):
        raise SpecError(f"column {ctx.column}: code needs a code table, e.g. {{\"code\": \"sex\"}}")
    table = arg["table"]
    if table not in ctx.code_tables:
        raise SpecError(f"column {ctx.column}: no code table {table!r} in the registry")
    mapping = dict(ctx.code_tables[table])
    aliases = arg.get("aliases", {})
    if not isinstance(aliases, dict):
        raise SpecError(f"column {ctx.column}: code aliases must be an object of raw: code")
    codes = set(ctx.code_tables[table].values())
    for raw, code in aliases.items():
        if str(code) not in codes:
            raise SpecError(f"column {ctx.column}: alias {raw!r} maps to {code!r}, which is "
                            f"not a code of {table}")
        mapping[str(raw).strip().upper()] = str(code)
    unmapped = arg.get("unmapped", "keep")
    if unmapped not in ("keep", "null"):
        raise SpecError(f"column {ctx.column}: unmapped must be keep or null")
    keys, values = ctx.params.add(list(mapping)), ctx.params.add(list(mapping.values()))
    text = _text(expr, ctx)
    looked_up = f"{values}[list_position({keys}, upper(trim({text})))]"
    return looked_up if unmapped == "null" else f"coalesce({looked_up}, {text})"


def code_lookup(values: list[tuple[str, str, str | None]]) -> dict[str, str]:
    """Raw spellings of a code table's values -> code: the code, the name, the note's short
    name (男), and a name without its generic suffix (汉族 → 汉). The code wins a clash."""
    lookup: dict[str, str] = {}
    for code, name, note in values:
        spellings = [name, note or ""]
        if name.endswith(("族", "性")) and len(name) > 2:
            spellings.append(name[:-1])
        for raw in spellings:
            key = raw.strip().upper()
            if key and " " not in key:
                lookup.setdefault(key, code)
    for code, _, _ in values:
        lookup[code.upper()] = code
    return lookup


_CASTS = {"INTEGER", "BIGINT", "DOUBLE", "DECIMAL(18,2)", "DATE", "TIMESTAMP", "VARCHAR",
          "BOOLEAN"}


@register("cast", "a strict cast to INTEGER, BIGINT, DOUBLE, DECIMAL(18,2), DATE, TIMESTAMP, "
          "VARCHAR or BOOLEAN: a value that does not fit fails the build (the old std table "
          "stays)", takes_argument=True)
def _cast(expr: str, arg: Any, ctx: Context) -> str:
    if not isinstance(arg, str) or arg.upper() not in _CASTS:
        raise SpecError(f"column {ctx.column}: cast takes one of {', '.join(sorted(_CASTS))}")
    return f"CAST({expr} AS {arg.upper()})"


@register("regex_replace", "replace a regular expression (RE2): {pattern, replacement}",
          takes_argument=True)
def _regex_replace(expr: str, arg: Any, ctx: Context) -> str:
    if not isinstance(arg, dict) or not isinstance(arg.get("pattern"), str):
        raise SpecError(f"column {ctx.column}: regex_replace needs {{pattern, replacement}}")
    replacement = str(arg.get("replacement", ""))
    return (f"regexp_replace({_text(expr, ctx)}, {ctx.params.add(arg['pattern'])}, "
            f"{ctx.params.add(replacement)}, 'g')")


@register("null_if", "these values (e.g. 无, 不详, 0) become NULL", takes_argument=True)
def _null_if(expr: str, arg: Any, ctx: Context) -> str:
    if not isinstance(arg, list) or not arg:
        raise SpecError(f"column {ctx.column}: null_if takes a list of values")
    text = _text(expr, ctx)
    return (f"CASE WHEN list_contains({ctx.params.add([str(v) for v in arg])}, {text}) "
            f"THEN NULL ELSE {expr} END")
