"""Quality rule kinds: a registry of small plugins; the built-ins (builtin.py) use it too.

A rule kind is either *row-level* — it says, as one SQL predicate over a row, whether that row
fails — or *table-level* — it measures the table as a whole (uniqueness, consistency with
another table, freshness, row-count change, custom SQL). Row-level predicates of a table are
compiled together into one scan (compiler.py); table-level kinds run their own small query.
Every kind has a GB/T 36344 dimension; a rule may override it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlglot import exp

from datapolis.errors import UserError
from datapolis.warehouse.engine import WarehouseError


class Dimension(enum.StrEnum):
    """The quality dimensions of GB/T 36344-2018."""

    CONFORMITY = "规范性"
    COMPLETENESS = "完整性"
    ACCURACY = "准确性"
    CONSISTENCY = "一致性"
    TIMELINESS = "时效性"
    ACCESSIBILITY = "可访问性"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class RuleError(UserError):
    """A rule is malformed: unknown kind, missing or bad parameters, refused SQL."""


class Binder:
    """Collects what a compiled query needs besides the rules' predicates: values as named
    parameters ($p0, $p1 ...), and derived columns computed once per row below the predicates
    (`derive`), so a value several terms read (an ID's digits as one number) is not recomputed
    by each."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.derived: dict[str, exp.Expr] = {}  # column name -> expression
        self._names: dict[str, str] = {}  # expression SQL -> column name

    def __call__(self, value: Any) -> exp.Placeholder:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return exp.Placeholder(this=name)

    def derive(self, expression: exp.Expr) -> exp.Column:
        text = expression.sql(dialect="duckdb")
        if text not in self._names:
            self._names[text] = f"_d{len(self.derived)}"
            self.derived[self._names[text]] = expression
        return exp.column(self._names[text], quoted=True)


@dataclass(frozen=True)
class Rule:
    """One rule as the engine runs it: a kind, the column(s) it reads and its parameters.

    `params` are already resolved (a code table's codes, not its name): the engine never reads
    the registry. `code` identifies the rule in results (the registry's rule id, or any name).
    """

    code: str
    kind: str
    columns: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    dimension: Dimension | None = None
    severity: Severity = Severity.WARNING
    threshold: float = 1.0  # the pass rate a run must reach for the rule to pass

    @property
    def spec(self) -> RuleKind:
        return kind(self.kind)

    @property
    def effective_dimension(self) -> Dimension:
        return self.dimension or self.spec.dimension


# Row-level: (rule, column expressions, binder) -> a predicate true when the row FAILS.
RowPredicate = Callable[[Rule, list[exp.Expr], Binder], exp.Expr]


@dataclass(frozen=True)
class TableOutcome:
    checked: int
    failed: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TableContext:
    """What table-level kinds may need besides the warehouse (given by the caller)."""

    rows: int
    last_landed: Any = None  # datetime of the last landing (freshness)
    previous_rows: int | None = None  # rows at the last run (row-count change)
    now: Any = None
    alive: str | None = None  # SQL condition of live rows (cdc soft deletes), trusted
    # An incremental check: the SQL condition of changed rows (trusted) and its parameters;
    # None: the whole table is looked at.
    changed: str | None = None
    changed_params: Mapping[str, Any] = field(default_factory=dict)
    # Keep what the next incremental check needs (e.g. uniqueness's duplicated values).
    keep_state: bool = False
    # Incremental from the table's landing log (datapolis.ingest.changelog): `changes` names
    # the table of changed rows (trusted; the latest version of each key, `_landed_op` 'U' or
    # 'D'); `from_log` asks kinds to keep the state such a check updates.
    changes: str | None = None
    from_log: bool = False
    keys: tuple[str, ...] = ()  # the table's primary key


# Table-level: (engine, table, rule, context) -> outcome
TableCheck = Callable[[Any, Any, Rule, TableContext], TableOutcome]


@dataclass(frozen=True)
class RuleKind:
    name: str
    label: str  # English msgid for pages
    dimension: Dimension
    scope: Literal["row", "table"]
    columns: tuple[int, int | None] = (1, 1)  # how many columns: (at least, at most or None)
    required: tuple[str, ...] = ()  # parameters that must be given
    predicate: RowPredicate | None = None
    check: TableCheck | None = None
    validate: Callable[[Rule], None] | None = None
    admin_only: bool = False


RULE_KINDS: dict[str, RuleKind] = {}


def register(spec: RuleKind) -> RuleKind:
    if (spec.scope == "row") != (spec.predicate is not None):
        raise ValueError(f"rule kind {spec.name}: row kinds need a predicate, table kinds a check")
    RULE_KINDS[spec.name] = spec
    return spec


def kind(name: str) -> RuleKind:
    from datapolis.quality import builtin  # noqa: F401  (the built-ins register on import)

    try:
        return RULE_KINDS[name]
    except KeyError:
        raise RuleError(f"unknown rule kind {name!r}; known: {', '.join(sorted(RULE_KINDS))}"
                        ) from None


def validate(rule: Rule) -> Rule:
    """Check the rule's shape (column count, required parameters, kind-specific checks)."""
    spec = kind(rule.kind)
    least, most = spec.columns
    if len(rule.columns) < least or (most is not None and len(rule.columns) > most):
        wanted = f"{least}" if least == most else f"{least} to {most or 'any'}"
        raise RuleError(f"rule {rule.code} ({rule.kind}) takes {wanted} column(s), "
                        f"got {len(rule.columns)}")
    missing = [name for name in spec.required if rule.params.get(name) in (None, "", [])]
    if missing:
        raise RuleError(f"rule {rule.code} ({rule.kind}) needs {', '.join(missing)}")
    if not 0.0 <= rule.threshold <= 1.0:
        raise RuleError(f"rule {rule.code}: threshold must be a pass rate between 0 and 1")
    if spec.validate is not None:
        try:
            spec.validate(rule)
        except WarehouseError as error:  # a bad table or column name in the parameters
            raise RuleError(f"rule {rule.code}: {error}") from None
    return rule
