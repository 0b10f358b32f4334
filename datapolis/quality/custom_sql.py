"""Custom SQL rules: read-only, one SELECT, checked by parsing (sqlglot) before it runs.

The query selects the FAILING rows. Refused: anything but a single SELECT (or a UNION of
SELECTs), any DDL/DML/PRAGMA/ATTACH/COPY/SET inside it, and table functions or scalar
functions that reach outside the warehouse (read_csv, read_parquet, glob, getenv, httpfs ...).
Only admins may save such a rule (the API checks that); this module makes sure that even an
admin's rule cannot write, read files or change settings.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from datapolis.quality.rules import RuleError
from datapolis.warehouse.engine import is_identifier

_FORBIDDEN_NODES = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter,
    exp.Command, exp.Pragma, exp.Attach, exp.Detach, exp.Copy, exp.Set, exp.Use,
    exp.TruncateTable, exp.Transaction, exp.Commit, exp.Rollback, exp.Into, exp.LoadData,
)
# Functions whose name starts with one of these read files, the network or the environment,
# or change the session.
_FORBIDDEN_PREFIXES = ("read_", "scan_", "parquet_", "glob", "getenv", "current_setting",
                       "http", "sniff_", "iceberg_", "delta_", "sqlite_", "postgres_",
                       "mysql_", "load", "install", "duckdb_", "pragma_", "query", "file",
                       "json_execute", "set_", "system", "shell", "copy", "export", "import",
                       "which_secret", "st_read")
MAX_LENGTH = 20_000


def checked(sql: str) -> str:
    """The query, re-generated from its parse tree, or a RuleError saying why it is refused."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise RuleError("custom SQL is empty")
    if len(text) > MAX_LENGTH:
        raise RuleError(f"custom SQL is longer than {MAX_LENGTH} characters")
    try:
        statements = [s for s in sqlglot.parse(text, dialect="duckdb") if s is not None]
    except ParseError as error:
        raise RuleError(f"custom SQL does not parse: {str(error).splitlines()[0]}") from None
    if len(statements) != 1:
        raise RuleError("custom SQL must be a single SELECT statement")
    (tree,) = statements
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    if not isinstance(tree, exp.Query):
        raise RuleError(f"custom SQL must be a SELECT, not {tree.key.upper()}")
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise RuleError(f"custom SQL may not contain {node.key.upper()}")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name.startswith(_FORBIDDEN_PREFIXES):
                raise RuleError(f"custom SQL may not call {name}()")
        if isinstance(node, exp.Table) and not _warehouse_table(node, ctes):
            raise RuleError("custom SQL may read warehouse tables only (schema.table), "
                            "not files, functions or other databases")
    return tree.sql(dialect="duckdb")


def _warehouse_table(node: exp.Table, ctes: set[str]) -> bool:
    # A quoted name that looks like a path ("/etc/passwd", "x.csv") would be read as a file by
    # DuckDB's replacement scans: only schema.table names with plain identifiers pass.
    if not isinstance(node.this, exp.Identifier) or node.args.get("catalog"):
        return False
    if not node.db:
        return node.name in ctes
    return is_identifier(node.db) and is_identifier(node.name)
