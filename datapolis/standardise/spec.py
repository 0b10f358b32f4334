"""Standardisation specs: one JSON file per std table, written and edited by a person.

A spec names its source ods table(s), the source's primary key, the transforms per column
(in order) and how duplicates collapse. The shipped specs (`specs/`, the demo departments)
can be overridden or extended by files in `<home>/standardise/`: a file there with the same
`target` replaces the shipped one.

    {"target": "gaj_czrk", "title": "常住人口基本信息（标准化）",
     "sources": ["ods_371300_gaj.czrk"], "pk": "ryid",
     "columns": {"gmsfhm": ["trim", "halfwidth", "upper", "blank_to_null", "id18"],
                 "xb": [{"code": "sex"}], "qrrq": ["date"]},
     "dedupe": {"key": ["gmsfhm"], "keep": ["most_recent:gxsj", "most_complete"]}}

A source may end in `*` (`ods_371300_mzj.dibao_*`, one table a month): it matches every
table with that prefix, newest name first, and that order is the source priority.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datapolis.standardise.transforms import SpecError, get_transform
from datapolis.warehouse.engine import check_identifier

SHIPPED = Path(__file__).resolve().parent / "specs"
KEEP_RULES = ("most_recent", "most_complete", "source_priority")


@dataclass(frozen=True)
class Step:
    name: str
    argument: Any = None

    @property
    def label(self) -> str:
        if self.argument is None:
            return self.name
        return f"{self.name}({json.dumps(self.argument, ensure_ascii=False)})"


@dataclass(frozen=True)
class Dedupe:
    key: tuple[str, ...]
    keep: tuple[tuple[str, str | None], ...]  # (rule, column) in order of precedence


@dataclass(frozen=True)
class Spec:
    target: str  # table name in the std schema
    title: str
    sources: tuple[str, ...]
    pk: str
    columns: dict[str, tuple[Step, ...]]
    dedupe: Dedupe | None
    path: Path | None = None

    @property
    def table(self) -> str:
        return f"std.{self.target}"


def parse(raw: Any, path: Path | None = None) -> Spec:
    where = f"{path.name}: " if path else ""
    if not isinstance(raw, dict):
        raise SpecError(f"{where}a spec is a JSON object")
    unknown = set(raw) - {"target", "title", "sources", "pk", "columns", "dedupe"}
    if unknown:
        raise SpecError(f"{where}unknown keys {', '.join(sorted(unknown))}")
    try:
        target = check_identifier(str(raw["target"]), "std table")
        sources = raw["sources"]
        pk = check_identifier(str(raw["pk"]), "primary key column")
    except KeyError as exc:
        raise SpecError(f"{where}missing {exc.args[0]!r}") from None
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources:
        raise SpecError(f"{where}sources must name at least one ods table")
    for source in sources:
        schema, dot, name = str(source).partition(".")
        if not dot or not schema.startswith("ods_"):
            raise SpecError(f"{where}source {source!r} must be an ods_<org>.<table>")
        check_identifier(schema, "schema")
        check_identifier(name.removesuffix("*"), "table")
    columns: dict[str, tuple[Step, ...]] = {}
    for column, steps in (raw.get("columns") or {}).items():
        check_identifier(column, "column")
        if not isinstance(steps, list):
            raise SpecError(f"{where}column {column}: transforms are a list")
        columns[column] = tuple(_step(where, column, s) for s in steps)
    return Spec(target, str(raw.get("title") or target), tuple(sources), pk, columns,
                _dedupe(where, raw.get("dedupe")), path)


def _step(where: str, column: str, step: Any) -> Step:
    if isinstance(step, str):
        name, argument = step, None
    elif isinstance(step, dict) and len(step) == 1:
        name, argument = next(iter(step.items()))
    else:
        raise SpecError(f"{where}column {column}: a transform is a name or {{name: argument}}")
    transform = get_transform(name)
    if argument is not None and not transform.takes_argument:
        raise SpecError(f"{where}column {column}: {name} takes no argument")
    return Step(name, argument)


def _dedupe(where: str, raw: Any) -> Dedupe | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("key"):
        raise SpecError(f"{where}dedupe needs a key (a list of columns)")
    key = tuple(check_identifier(str(c), "key column") for c in raw["key"])
    keep = []
    for rule in raw.get("keep", ["most_complete"]):
        name, _, column = str(rule).partition(":")
        if name not in KEEP_RULES:
            raise SpecError(f"{where}dedupe rule {rule!r}: use {', '.join(KEEP_RULES)}")
        if (name == "most_recent") != bool(column):
            raise SpecError(f"{where}dedupe rule {rule!r}: most_recent names a column "
                            "(most_recent:gxsj), the others none")
        keep.append((name, check_identifier(column, "column") if column else None))
    return Dedupe(key, tuple(keep))


def load_file(path: Path) -> Spec:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path.name}: not valid JSON: {exc}") from None
    return parse(raw, path)


def load_specs(home: Path | None = None) -> dict[str, Spec]:
    """Every spec by target: the shipped ones, overridden by `<home>/standardise/*.json`."""
    specs: dict[str, Spec] = {}
    folders = [SHIPPED] + ([home / "standardise"] if home is not None else [])
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            spec = load_file(path)
            specs[spec.target] = spec
    return specs


def get_spec(specs: dict[str, Spec], target: str) -> Spec:
    name = target.removeprefix("std.")
    if name not in specs:
        raise SpecError(f"no standardisation spec for std.{name}; known: "
                        f"{', '.join(sorted(specs)) or 'none'}")
    return specs[name]


def specs_reading(specs: dict[str, Spec], ods_table: str) -> list[Spec]:
    """The specs one of whose sources is (or matches) `ods_table`."""
    return [s for s in specs.values() if any(_matches(src, ods_table) for src in s.sources)]


def _matches(source: str, table: str) -> bool:
    return table.startswith(source[:-1]) if source.endswith("*") else table == source
