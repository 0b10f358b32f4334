"""Socrata-style query parameters for open-API rows: $select, $where, $order, $limit, $offset.

`$where` is a small, safe language, parsed into a tree and rendered with every column quoted
and every value a `?` parameter, so nothing a caller types ever becomes SQL:

    rjkl > 1000 and (xlmc like '1%' or xlmc in ('K3路', '2路')) and bz is not null
    rjkl between 100 and 5000 and not (smz = '旧站')

Comparisons `= != <> < <= > >=`, `in (…)`, `not in (…)`, `between … and …`,
`like '…%'` (a prefix: only a trailing `%`), `is [not] null`, `and`, `or`, `not`, parentheses.
Values are single-quoted strings ('' is a quote), numbers, `true`, `false`.
Columns are checked against the dataset's public columns, so filters read de-identified values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from datapolis.errors import UserError

MAX_LENGTH = 4000
MAX_DEPTH = 32
MAX_VALUES = 500
Value = str | int | float | bool
COMPARISONS = {"=": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
KEYWORDS = frozenset({"and", "or", "not", "in", "between", "like", "is", "null", "true",
                      "false"})
Quote = Callable[[str], str]


class QueryError(UserError):
    def __init__(self, parameter: str, message: str, position: int | None = None) -> None:
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"{parameter}: {message}{where}")


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokens(text: str, parameter: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise QueryError(parameter, f"longer than {MAX_LENGTH} characters")
    found, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] == "'":
                raise QueryError(parameter, "unterminated string", position)
            raise QueryError(parameter, f"unexpected {text[position]!r}", position)
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(Token(kind, match.group(), position))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str, columns: Collection[str], parameter: str) -> None:
        self.parameter = parameter
        self.tokens = tokens(text, parameter)
        self.columns = set(columns)
        self.at = 0
        self.params: list[object] = []

    def error(self, message: str) -> QueryError:
        token = self.peek()
        return QueryError(self.parameter, message, token.position if token else None)

    def peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.at += 1
            return True
        return False

    def punct(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == text:
            self.at += 1
            return True
        return False

    def expect_punct(self, text: str) -> None:
        if not self.punct(text):
            raise self.error(f"expected {text!r}")

    def column(self, quote: Quote) -> str:
        token = self.peek()
        if token is None or token.kind != "word" or token.text.lower() in KEYWORDS:
            raise self.error("expected a column name")
        if token.text not in self.columns:
            known = ", ".join(sorted(self.columns))
            raise self.error(f"no column {token.text!r}; columns: {known}")
        self.at += 1
        return quote(token.text)

    def value(self) -> Value:
        token = self.peek()
        if token is None:
            raise self.error("expected a value")
        self.at += 1
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            return token.text.lower() == "true"
        self.at -= 1
        raise self.error("expected a quoted string, a number, true or false")

    def param(self, value: Value) -> str:
        self.params.append(value)
        return "?"

    # expression := term (or term)* ; term := factor (and factor)* ; factor := not factor | ...
    def expression(self, quote: Quote, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            raise self.error("nested too deeply")
        parts = [self.term(quote, depth)]
        while self.keyword("or"):
            parts.append(self.term(quote, depth))
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self, quote: Quote, depth: int) -> str:
        parts = [self.factor(quote, depth)]
        while self.keyword("and"):
            parts.append(self.factor(quote, depth))
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self, quote: Quote, depth: int) -> str:
        if self.keyword("not"):
            return f"(NOT {self.factor(quote, depth + 1)})"
        if self.punct("("):
            inner = self.expression(quote, depth + 1)
            self.expect_punct(")")
            return inner
        return self.predicate(quote)

    def predicate(self, quote: Quote) -> str:
        column = self.column(quote)
        token = self.peek()
        if token is not None and token.kind == "op":
            self.at += 1
            return f"{column} {COMPARISONS[token.text]} {self.param(self.value())}"
        if self.keyword("is"):
            negated = self.keyword("not")
            if not self.keyword("null"):
                raise self.error("expected null")
            return f"{column} IS {'NOT ' if negated else ''}NULL"
        negated = self.keyword("not")
        if self.keyword("in"):
            self.expect_punct("(")
            values = [self.param(self.value())]
            while self.punct(","):
                values.append(self.param(self.value()))
                if len(values) > MAX_VALUES:
                    raise self.error(f"more than {MAX_VALUES} values in a list")
            self.expect_punct(")")
            return f"{column} {'NOT ' if negated else ''}IN ({', '.join(values)})"
        if self.keyword("between"):
            low = self.param(self.value())
            if not self.keyword("and"):
                raise self.error("expected and")
            high = self.param(self.value())
            return f"{column} {'NOT ' if negated else ''}BETWEEN {low} AND {high}"
        if self.keyword("like"):
            pattern = self.value()
            if not isinstance(pattern, str) or not pattern.endswith("%") \
                    or "%" in pattern[:-1] or "_" in pattern:
                self.at -= 1
                raise self.error("like takes a prefix: a quoted text ending in % (no other "
                                 "% or _)")
            return (f"{'NOT ' if negated else ''}starts_with(CAST({column} AS VARCHAR), "
                    f"{self.param(pattern[:-1])})")
        raise self.error("expected a comparison, in, between, like or is null")

    def done(self) -> None:
        if self.peek() is not None:
            raise self.error("unexpected text")


def where(text: str, columns: Collection[str], quote: Quote) -> tuple[str, list[object]]:
    """`$where` as SQL with `?` parameters."""
    parser = _Parser(text, columns, "$where")
    if not parser.tokens:
        raise QueryError("$where", "is empty")
    sql = parser.expression(quote)
    parser.done()
    return sql, parser.params


def select_list(text: str, columns: Collection[str]) -> list[str]:
    """`$select`: column names separated by commas, each once."""
    chosen: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            raise QueryError("$select", "an empty column name")
        if name not in columns:
            raise QueryError("$select", f"no column {name!r}; columns: "
                             f"{', '.join(sorted(columns))}")
        if name not in chosen:
            chosen.append(name)
    return chosen


def order(text: str, columns: Collection[str], quote: Quote) -> str:
    """`$order`: `column [asc|desc]` separated by commas."""
    parts = []
    for raw in text.split(","):
        words = raw.split()
        if not 1 <= len(words) <= 2 or (len(words) == 2 and words[1].lower()
                                         not in ("asc", "desc")):
            raise QueryError("$order", f"expected 'column [asc|desc]', got {raw.strip()!r}")
        if words[0] not in columns:
            raise QueryError("$order", f"no column {words[0]!r}")
        direction = "DESC" if len(words) == 2 and words[1].lower() == "desc" else "ASC"
        parts.append(f"{quote(words[0])} {direction}")
    return ", ".join(parts)
