"""The row-scope language of grants: a small, safe filter that is never raw SQL.

    division_code prefix "371302" and status in ("1", "2") and birth_date >= "1960-01-01"

Comparisons `= != < <= > >=`, `in (…)`, `not in (…)`, `prefix "…"`, `is null`,
`is not null`, joined by `and` / `or`, negated by `not`, grouped by parentheses. Columns are
bare names checked against the table's columns; values are quoted strings ("…" or '…', a
backslash escapes the quote) or numbers. Keywords are case-insensitive.

`parse` refuses anything else with the character where it went wrong. `to_sql` renders every
column through the caller's quoting function and every value as a `?` parameter, so no text a
user typed ever becomes SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from datapolis.errors import UserError

MAX_LENGTH = 4000
MAX_DEPTH = 32
MAX_VALUES = 1000

Value = str | int | float
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
KEYWORDS = frozenset({"and", "or", "not", "in", "prefix", "is", "null"})


class ScopeError(UserError):
    """A row scope that is not in the language; says what is wrong and at which character."""

    def __init__(self, message: str, position: int | None = None) -> None:
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__(f"row scope: {message}{where}")
        self.position = position


# --- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    column: str
    op: str  # one of COMPARISONS
    value: Value


@dataclass(frozen=True)
class In:
    column: str
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Prefix:
    column: str
    value: str


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    parts: tuple[Scope, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Scope, ...]


@dataclass(frozen=True)
class Not:
    part: Scope


Scope = Compare | In | Prefix | IsNull | And | Or | Not


def columns_of(scope: Scope) -> set[str]:
    if isinstance(scope, And | Or):
        return set().union(*(columns_of(part) for part in scope.parts))
    if isinstance(scope, Not):
        return columns_of(scope.part)
    return {scope.column}


# --- tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "name" | "keyword" | "string" | "number" | "op" | "(" | ")" | "," | "end"
    text: str
    value: Value | None
    position: int


_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            yield _Token(char, char, None, i)
            i += 1
        elif char in "\"'":
            start, i, chars = i, i + 1, []
            while True:
                if i >= n:
                    raise ScopeError(f"the string opened with {char} is never closed", start)
                if text[i] == "\\" and i + 1 < n and text[i + 1] in (char, "\\"):
                    chars.append(text[i + 1])
                    i += 2
                elif text[i] == char:
                    i += 1
                    break
                else:
                    chars.append(text[i])
                    i += 1
            yield _Token("string", text[start:i], "".join(chars), start)
        elif text.startswith(("==", "<>"), i):
            raise ScopeError(f"unknown operator {text[i:i + 2]!r} (use = for equality, "
                             "!= for inequality)", i)
        elif text.startswith(("!=", "<=", ">="), i):
            yield _Token("op", text[i:i + 2], None, i)
            i += 2
        elif char in "=<>":
            yield _Token("op", char, None, i)
            i += 1
        elif (found := _NUMBER.match(text, i)) and (char != "-" or found.end() > i + 1):
            word = found.group()
            number: Value = float(word) if any(c in word for c in ".eE") else int(word)
            yield _Token("number", word, number, i)
            i = found.end()
        elif found_name := _NAME.match(text, i):
            word = found_name.group()
            kind = "keyword" if word.lower() in KEYWORDS else "name"
            yield _Token(kind, word.lower() if kind == "keyword" else word, None, i)
            i = found_name.end()
        else:
            raise ScopeError(f"unexpected character {char!r}", i)
    yield _Token("end", "", None, n)


# --- the parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, columns: Collection[str]) -> None:
        self.tokens = list(_tokens(text))
        self.at = 0
        self.columns = columns
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        if self.token.kind == "keyword" and self.token.text == word:
            self.at += 1
            return True
        return False

    def fail(self, expected: str) -> ScopeError:
        token = self.token
        found = "the end of the text" if token.kind == "end" else repr(token.text)
        return ScopeError(f"expected {expected}, found {found}", token.position)

    def scope(self) -> Scope:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ScopeError(f"nested more than {MAX_DEPTH} levels deep", self.token.position)
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        self.depth -= 1
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Scope:
        parts = [self.negation()]
        while self.keyword("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self) -> Scope:
        if self.keyword("not"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ScopeError(f"nested more than {MAX_DEPTH} levels deep",
                                 self.token.position)
            part = self.negation()
            self.depth -= 1
            return Not(part)
        if self.token.kind == "(":
            self.take()
            inner = self.scope()
            if self.token.kind != ")":
                raise self.fail("')' or 'and' / 'or'")
            self.take()
            return inner
        return self.condition()

    def column(self) -> str:
        token = self.token
        if token.kind != "name":
            raise self.fail("a column name")
        if token.text not in self.columns:
            known = ", ".join(sorted(self.columns)[:20]) or "none"
            raise ScopeError(f"unknown column {token.text!r}; the table has: {known}",
                             token.position)
        self.take()
        return token.text

    def value(self) -> Value:
        token = self.token
        if token.kind in ("string", "number"):
            self.take()
            assert token.value is not None
            return token.value
        if token.kind == "keyword" and token.text == "null":
            raise ScopeError("compare with null by 'is null' or 'is not null'", token.position)
        raise self.fail('a value: a "quoted string" or a number')

    def condition(self) -> Scope:
        column = self.column()
        token = self.token
        if token.kind == "op":
            self.take()
            return Compare(column, token.text, self.value())
        if self.keyword("prefix"):
            if self.token.kind != "string":
                raise self.fail('a "quoted string" after prefix')
            value = self.value()
            assert isinstance(value, str)
            if not value:
                raise ScopeError("prefix needs at least one character", token.position)
            return Prefix(column, value)
        if self.keyword("is"):
            negated = self.keyword("not")
            if not self.keyword("null"):
                raise self.fail("null after 'is'" if not negated else "null after 'is not'")
            return IsNull(column, negated)
        negated = self.keyword("not")
        if self.keyword("in"):
            return In(column, self.values(), negated)
        raise self.fail("an operator (= != < <= > >= in, not in, prefix, is null)"
                        if not negated else "'in' after 'not'")

    def values(self) -> tuple[Value, ...]:
        if self.token.kind != "(":
            raise self.fail("'(' opening the list of values")
        self.take()
        found = [self.value()]
        while self.token.kind == ",":
            self.take()
            found.append(self.value())
            if len(found) > MAX_VALUES:
                raise ScopeError(f"more than {MAX_VALUES} values in one list",
                                 self.token.position)
        if self.token.kind != ")":
            raise self.fail("',' or ')' closing the list of values")
        self.take()
        return tuple(found)


def parse(text: str, columns: Collection[str]) -> Scope:
    """The scope `text` says, its columns checked against `columns`; ScopeError otherwise."""
    if len(text) > MAX_LENGTH:
        raise ScopeError(f"longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ScopeError("empty; leave the row scope out to grant every row")
    parser = _Parser(text, columns)
    scope = parser.scope()
    if parser.token.kind != "end":
        raise parser.fail("'and', 'or' or the end of the scope")
    return scope


# --- SQL and text --------------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def to_sql(scope: Scope, quote: Callable[[str], str]) -> tuple[str, list[object]]:
    """A boolean SQL expression with `?` parameters, and the parameters in order."""
    params: list[object] = []

    def render(node: Scope) -> str:
        if isinstance(node, And | Or):
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(render(part) for part in node.parts) + ")"
        if isinstance(node, Not):
            return f"(NOT {render(node.part)})"
        column = quote(node.column)
        if isinstance(node, Compare):
            if node.op not in COMPARISONS:  # a tree built by hand, not by parse
                raise ScopeError(f"unknown operator {node.op!r}")
            params.append(node.value)
            op = "<>" if node.op == "!=" else node.op
            return f"{column} {op} ?"
        if isinstance(node, In):
            params.extend(node.values)
            marks = ", ".join("?" for _ in node.values)
            return f"{column} {'NOT IN' if node.negated else 'IN'} ({marks})"
        if isinstance(node, Prefix):
            params.append(_escape_like(node.value) + "%")
            return f"CAST({column} AS VARCHAR) LIKE ? ESCAPE '\\'"
        return f"{column} IS {'NOT ' if node.negated else ''}NULL"

    return render(scope), params


def _literal(value: Value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def to_text(scope: Scope) -> str:
    """The scope written back in the language (canonical spacing); `parse` reads it again."""
    if isinstance(scope, And | Or):
        joiner = " and " if isinstance(scope, And) else " or "
        return "(" + joiner.join(to_text(part) for part in scope.parts) + ")"
    if isinstance(scope, Not):
        return f"not {to_text(scope.part)}"
    if isinstance(scope, Compare):
        return f"{scope.column} {scope.op} {_literal(scope.value)}"
    if isinstance(scope, In):
        listed = ", ".join(_literal(v) for v in scope.values)
        return f"{scope.column} {'not in' if scope.negated else 'in'} ({listed})"
    if isinstance(scope, Prefix):
        return f"{scope.column} prefix {_literal(scope.value)}"
    return f"{scope.column} is {'not ' if scope.negated else ''}null"


def both(first: str | None, second: str | None) -> str | None:
    """Two scopes' texts joined by `and` (None means every row)."""
    if not first or not second:
        return first or second
    return f"({first}) and ({second})"


# Columns that hold a row's administrative division (GB/T 2260), best first; street (乡镇街道)
# and community codes start with their county's code, so a county prefix works on them too.
DIVISION_COLUMNS = ("division_code", "xzqh_dm", "xzqh", "qhdm", "county_code", "district_code",
                    "jdxz_dm", "street_code", "sqjc_dm")


def division_scope(columns: Collection[str], division_code: str) -> str | None:
    """`<division column> prefix "<code>"` for the table's division column, if it has one."""
    for name in DIVISION_COLUMNS:
        if name in columns:
            return to_text(Prefix(name, division_prefix(division_code)))
    return None


def division_prefix(code: str) -> str:
    """The significant digits of a GB/T 2260 code: 370000 -> 37, 371300 -> 3713."""
    if len(code) == 6 and code.isdigit():
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code
