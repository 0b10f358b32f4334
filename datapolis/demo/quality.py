"""Quality in the demo: rules on the landed department tables, one check of each, the base
libraries' conflicts as issues, and a few issues moved by the demo department users, so the
issue board and the governance dashboard have something to show right after `demo land`.

Idempotent: rules are added only to tables that have none, and only issues still open are
moved. Rules name only columns the landed table has (the demo's dirt makes many of them fail).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datapolis.errors import UserError
from datapolis.orgs.service import get_organisation
from datapolis.quality import service
from datapolis.quality.issues import service as issues
from datapolis.quality.issues import states
from datapolis.quality.schemas import RuleIn
from datapolis.registry.db import Registry
from datapolis.security.audit import service as audit
from datapolis.warehouse import Engine

ACTOR = "demo"
# (table, kind, column, params, severity): ID numbers and credit codes are errors, contact
# details warnings, code-table membership informational.
RULES: tuple[tuple[str, str, str, dict[str, Any], str], ...] = (
    ("ods_371300_gaj.czrk", "resident_id", "gmsfhm", {}, "error"),
    ("ods_371300_gaj.czrk", "not_null", "xm", {}, "warning"),
    ("ods_371300_gaj.czrk", "mobile", "lxdh", {}, "warning"),
    ("ods_371300_gaj.czrk", "in_set", "xb", {"code_table": "sex"}, "info"),
    ("ods_371300_jyj.xlxx", "resident_id", "sfzh", {}, "error"),
    ("ods_371300_jyj.xlxx", "not_null", "xm", {}, "warning"),
    ("ods_371300_scjgj.qyjbxx", "credit_code", "tyshxydm", {}, "error"),
    ("ods_371300_scjgj.qyjbxx", "not_null", "qymc", {}, "warning"),
    ("ods_371300_scjgj.qyjbxx", "mobile", "lxdh", {}, "warning"),
    ("ods_371300_swjt.yhda", "not_null", "hm", {}, "warning"),
    ("ods_371300_swjt.yhda", "mobile", "lxdh", {}, "warning"),
    ("ods_371300_bdcdj.qlr", "not_null", "qlrmc", {}, "warning"),
    ("ods_371300_bdcdj.qlr", "mobile", "lxdh", {}, "warning"),
)
# The demo department users' moves: per department, the first open issue goes this far.
MOVES = (
    ("gaj_user", "371300_gaj", (states.ACKNOWLEDGED, states.RECTIFYING, states.SUBMITTED),
     "已组织派出所核对户籍档案，错误身份证号已更正"),
    ("scjgj_user", "371300_scjgj", (states.ACKNOWLEDGED,), "已收到，安排核查企业登记信息"),
    ("jyj_user", "371300_jyj", (states.ACKNOWLEDGED, states.RECTIFYING), "正在联系学校补录"),
)


@dataclass(frozen=True)
class DemoQuality:
    rules: int
    runs: int
    issues: int
    moved: int


def _columns(warehouse: Engine, table: str) -> set[str]:
    return {c.name for c in warehouse.columns(table)} if warehouse.table_exists(table) else set()


def add_rules(registry: Registry, warehouse: Engine) -> list[str]:
    """Rules on the demo tables that have none yet; returns the tables that have rules."""
    tables = sorted({table for table, *_ in RULES})
    added = 0
    with registry.session() as session:
        for table in tables:
            columns = _columns(warehouse, table)
            if not columns or service.list_rules(session, table):
                continue
            for _, kind, column, params, severity in (r for r in RULES if r[0] == table):
                if column in columns:
                    service.create_rule(session, table, RuleIn(
                        kind=kind, columns=[column], params=params, severity=severity),
                        actor=ACTOR, admin=True)
                    added += 1
        return [t for t in tables if service.list_rules(session, t)]


def _move_some(registry: Registry) -> int:
    moved = 0
    with registry.session() as session:
        for username, org_code, path, comment in MOVES:
            try:
                org = get_organisation(session, org_code)
            except UserError:
                continue
            waiting = issues.list_issues(session, org_ids=[org.id], state=states.OPEN, limit=1)
            if not waiting:
                continue
            audit.act_as(session, username, org_code)
            for target in path:
                issues.transition(session, waiting[0], target, actor=username,
                                  comment=comment if target == path[-1] else None)
                moved += 1
    return moved


def run(registry: Registry, warehouse: Engine) -> DemoQuality:
    tables = add_rules(registry, warehouse)
    with registry.session() as session:
        rules = sum(len(service.list_rules(session, t)) for t in tables)
    for table in tables:
        service.run_table(registry, warehouse, table, trigger="manual", changed_only=False)
    with registry.session() as session:
        issues.sync_conflicts(session, warehouse)
    moved = _move_some(registry)
    with registry.session() as session:
        total = len(issues.list_issues(session, limit=5000))
    return DemoQuality(rules=rules, runs=len(tables), issues=total, moved=moved)
