"""Data quality (数据质量): rules, one scan per table, stored runs and results.

The engine, for anyone who wants to run checks without the registry (the peer benchmark,
tests, another slice)::

    from datapolis.quality import Rule, run_checks
    report = run_checks(engine, "ods_gaj.person", [
        Rule("id", "resident_id", ("sfzh",)),
        Rule("phone", "mobile", ("sjhm",)),
        Rule("age", "range", ("nl",), {"min": 0, "max": 120}),
        Rule("uniq", "unique", ("sfzh",)),
    ], key=["id"], samples=True)
    for result in report.results:
        print(result.rule.code, result.checked, result.failed, result.pass_rate, result.sample)

`run_checks(engine, table, rules, *, key=(), samples=True, changed=None, context=None)`:
row-level rules compile into ONE scan of the table that writes the failing rows (key, read
columns, bit mask) to `quality.f_<schema>__<table>`; counts and capped samples (20 per rule)
are read from that store. Table-level rules (unique, consistency, freshness, row_count,
custom_sql) run one small query each. `changed=Changed(column, since)` re-checks only the rows
whose `column` is past `since`, `changed=LandingLog()` only the rows the table's landing log
holds (see runner.py). Rule kinds: `RULE_KINDS` (rules.py,
builtin.py); registry models, the service, API and CLI are in the other modules.
"""

from datapolis.quality.rules import (
    RULE_KINDS,
    Dimension,
    Rule,
    RuleError,
    RuleKind,
    Severity,
    TableContext,
    register,
)
from datapolis.quality.runner import (
    Changed,
    CheckReport,
    LandingLog,
    RuleResult,
    failing_keys,
    run_checks,
)

__all__ = [
    "RULE_KINDS",
    "Changed",
    "CheckReport",
    "Dimension",
    "LandingLog",
    "Rule",
    "RuleError",
    "RuleKind",
    "RuleResult",
    "Severity",
    "TableContext",
    "failing_keys",
    "register",
    "run_checks",
]
