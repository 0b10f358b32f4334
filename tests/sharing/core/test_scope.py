"""The row-scope language: what it reads, the SQL it writes, and what it refuses (and where)."""

from __future__ import annotations

import duckdb
import pytest

from datapolis.sharing import scope
from datapolis.sharing.scope import ScopeError, parse, to_sql, to_text
from datapolis.warehouse.engine import quote_identifier

COLUMNS = ["division_code", "status", "birth_date", "age", "name"]


def sql(text: str) -> tuple[str, list[object]]:
    return to_sql(parse(text, COLUMNS), quote_identifier)


def test_the_example_reads_and_renders_with_parameters() -> None:
    where, params = sql('division_code prefix "371302" and status in ("1","2") '
                        'and birth_date >= "1960-01-01"')
    assert where == ('("division_code" LIKE ? ESCAPE \'\\\' AND "status" IN (?, ?) '
                     'AND "birth_date" >= ?)').replace('"division_code" LIKE',
                                                       'CAST("division_code" AS VARCHAR) LIKE')
    assert params == ["371302%", "1", "2", "1960-01-01"]


def test_operators_precedence_and_text_round_trip() -> None:
    text = ('not (age < 18 or age >= 60.5) and name is not null or status != \'x\' '
            'and division_code not in ("1", "2") and birth_date is null')
    tree = parse(text, COLUMNS)
    assert isinstance(tree, scope.Or) and len(tree.parts) == 2
    assert parse(to_text(tree), COLUMNS) == tree
    where, params = to_sql(tree, quote_identifier)
    assert "NOT IN" in where and "IS NOT NULL" in where and "<>" in where
    assert params == [18, 60.5, "x", "1", "2"]


def test_keywords_are_case_insensitive_and_strings_escape_quotes() -> None:
    tree = parse('name = "say \\"hi\\"" AND status IN (\'a\')', COLUMNS)
    assert tree == scope.And((scope.Compare("name", "=", 'say "hi"'),
                              scope.In("status", ("a",))))


@pytest.mark.parametrize(("text", "message", "position"), [
    ('division_code = ', "expected a value", 17),
    ('nope = "1"', "unknown column 'nope'", 1),
    ('status == "1"', "use = for equality", 8), ('status <> "1"', "!= for inequality", 8),
    ('status = "1" status = "2"', "expected 'and', 'or'", 14),
    ('(status = "1"', "expected ')'", 14),
    ('status = "1', "never closed", 10),
    ('status in "1"', "'(' opening", 11),
    ('status = null', "is null", 10),
    ('status prefix 3', "quoted string", 15),
    ('status prefix ""', "at least one character", 8),
    ('status is 1', "null after 'is'", 11),
    ('status; DROP TABLE x', "unexpected character ';'", 7),
    ('', "empty", None),
])
def test_errors_say_what_and_where(text: str, message: str, position: int | None) -> None:
    with pytest.raises(ScopeError) as raised:
        parse(text, COLUMNS)
    assert message in str(raised.value)
    if position is not None:
        assert f"at character {position})" in str(raised.value)


def test_depth_and_length_are_bounded() -> None:
    with pytest.raises(ScopeError, match="nested more than"):
        parse("(" * 40 + 'status = "1"' + ")" * 40, COLUMNS)
    with pytest.raises(ScopeError, match="nested more than"):
        parse("not " * 40 + 'status = "1"', COLUMNS)
    with pytest.raises(ScopeError, match="longer than"):
        parse('status = "' + "x" * 5000 + '"', COLUMNS)


@pytest.mark.parametrize("attack", [
    '\'1\' OR \'1\'=\'1\'',
    'status = "1" OR 1=1 --',
    'status = "1"; DELETE FROM people',
    'status = "1" union select * from secrets',
    '"status" = "1"',
    'status = "1") or (1 = 1',
    'status in (select 1)',
])
def test_injection_attempts_are_refused(attack: str) -> None:
    with pytest.raises(ScopeError):
        parse(attack, COLUMNS)


def test_hostile_values_stay_values_in_a_real_database() -> None:
    db = duckdb.connect()
    db.execute("CREATE TABLE t (division_code VARCHAR, status VARCHAR, birth_date VARCHAR, "
               "age INTEGER, name VARCHAR)")
    db.execute("INSERT INTO t VALUES ('371302001', '1', '1970-01-01', 50, 'a'), "
               "('371302', '2', '1950-01-01', 70, 'b'), ('3713_2x', '1', NULL, 30, NULL), "
               "('371311', '1', '1990-01-01', 30, 'c')")
    def count(text: str) -> int:
        where, params = sql(text)
        return db.execute(f"SELECT count(*) FROM t WHERE {where}", params).fetchone()[0]

    assert count('division_code prefix "371302"') == 2
    assert count('division_code prefix "3713_"') == 1  # _ is a character, not a wildcard
    assert count('division_code prefix "%"') == 0
    assert count('status = "1\' OR \'1\'=\'1"') == 0
    assert count('name = "x\\" or 1=1 --"') == 0
    assert count('age >= 50 and not birth_date is null') == 2
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 4


def test_division_scope_picks_the_division_column_and_significant_digits() -> None:
    assert scope.division_scope(["xm", "xzqh_dm"], "371302") == 'xzqh_dm prefix "371302"'
    assert scope.division_scope(["division_code"], "371300") == 'division_code prefix "3713"'
    assert scope.division_scope(["xm"], "371302") is None
    assert scope.both("a = 1", None) == "a = 1"
    assert scope.both("a = 1", "b = 2") == "(a = 1) and (b = 2)"
