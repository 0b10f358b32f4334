"""The rectification loop: issues opened and verified by quality runs, moved by departments.

`sync_from_run` is called in the transaction that stores a run: each failing rule opens (or
updates) its table's one issue for that rule, and the run verifies or reopens the issues of
rules that now pass or still fail. `sync_conflicts` does the same for base-library conflicts
(one issue per base table, field and source). People move issues with `transition`. Every
change is kept in the issue's history and appended to the audit log as `quality.issue.<state>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.preview import Treatment
from datapolis.errors import NotFound, UserError
from datapolis.orgs.models import Organisation
from datapolis.quality import samples
from datapolis.quality.issues import states
from datapolis.quality.issues.models import QualityIssue, QualityIssueEvent
from datapolis.quality.models import QualityResult, QualityRule, QualityRun
from datapolis.quality.providers import provider_orgs
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.warehouse.engine import Engine

SYSTEM = audit.SYSTEM_ACTOR
SAMPLE = 5  # failing rows kept on an issue (the run keeps up to 20)
PASSED_AGAIN = "the rule passes on the run of {at}"
FAILS_AGAIN = "the rule still fails on the run of {at}: {failed} rows"


def rule_subject(rule_id: int) -> str:
    return f"rule:{rule_id}"


def conflict_subject(library: str, field: str, source: str) -> str:
    return f"baselib:{library}.{field}:{source}"


def _move(session: Session, issue: QualityIssue, target: str, *, actor: str,
          comment: str | None, now: datetime, org: str | None = None) -> None:
    before = issue.state
    issue.state, issue.state_changed_at = target, now
    if target == states.SUBMITTED:
        issue.submitted_at = now
    if target == states.VERIFIED:
        issue.verified_at = now
    if target == states.WITHDRAWN:
        issue.failed = 0
    if target == states.REOPENED:  # a fresh deadline to rectify again
        issue.due_at = now + states.due_after(issue.severity)
        issue.verified_at = None
    issue.events.append(QualityIssueEvent(from_state=before, to_state=target, actor=actor,
                                          at=now, comment=comment, failed=issue.failed))
    session.flush()
    details = {"issue": issue.id, "table": issue.warehouse_table, "subject": issue.subject,
               "from": before, "to": target, "comment": comment}
    if actor == SYSTEM:
        audit.record(session, kind=f"quality.issue.{target}", actor=SYSTEM, org=None,
                     details=details)
    else:
        audit.record(session, kind=f"quality.issue.{target}", details=details, org=org)


def _open(session: Session, *, table: str, subject: str, origin: str, org: Organisation | None,
          kind: str, columns: list[str], dimension: str, severity: str, checked: int,
          failed: int, sample: list[Any], rule_id: int | None, run_id: int | None,
          now: datetime, comment: str) -> QualityIssue:
    issue = QualityIssue(
        warehouse_table=table, subject=subject, origin=origin, rule_id=rule_id,
        org_id=org.id if org else None, kind=kind, columns=columns, dimension=dimension,
        severity=severity, state=states.OPEN, checked=checked, failed=failed,
        sample=sample[:SAMPLE], last_run_id=run_id, opened_at=now,
        due_at=now + states.due_after(severity), state_changed_at=now)
    issue.events.append(QualityIssueEvent(from_state=None, to_state=states.OPEN, actor=SYSTEM,
                                          at=now, comment=comment, failed=failed))
    session.add(issue)
    session.flush()
    audit.record(session, kind="quality.issue.open", actor=SYSTEM, org=None, details={
        "issue": issue.id, "table": table, "subject": subject, "from": None,
        "to": states.OPEN, "comment": comment})
    return issue


def _existing(session: Session, table: str, subjects: Iterable[str]) -> dict[str, QualityIssue]:
    found = session.scalars(select(QualityIssue).where(
        QualityIssue.warehouse_table == table, QualityIssue.subject.in_(list(subjects)))
        .options(selectinload(QualityIssue.events)))
    return {issue.subject: issue for issue in found}


WITHDRAWN_BECAUSE = "rule withdrawn: the rule was {why}; no run will check it again"


def withdraw_rule_issues(session: Session, rule_id: int, *, why: str) -> list[QualityIssue]:
    """Close the issues of a rule that was disabled or deleted (`why`) as withdrawn, by whoever
    acts through the session; a rule no run checks can never verify them."""
    actor, org = audit.acting(session)
    found = list(session.scalars(
        select(QualityIssue).where(QualityIssue.subject == rule_subject(rule_id),
                                   QualityIssue.state.not_in(states.CLOSED))
        .options(selectinload(QualityIssue.events))))
    for issue in found:
        _move(session, issue, states.WITHDRAWN, actor=actor, org=org, now=utcnow(),
              comment=WITHDRAWN_BECAUSE.format(why=why))
    return found


def withdraw_orphans(session: Session, table: str) -> list[QualityIssue]:
    """Withdraw the still-open issues of `table` whose rule is gone or disabled (issues left
    behind before rules withdrew their issues themselves); the platform is the actor."""
    found = list(session.scalars(
        select(QualityIssue).outerjoin(QualityRule, QualityRule.id == QualityIssue.rule_id)
        .where(QualityIssue.warehouse_table == table, QualityIssue.origin == "rule",
               QualityIssue.state.not_in(states.CLOSED),
               QualityRule.id.is_(None) | QualityRule.enabled.is_(False))
        .options(selectinload(QualityIssue.events))))
    for issue in found:
        why = "disabled" if issue.rule_id is not None else "deleted"
        _move(session, issue, states.WITHDRAWN, actor=SYSTEM, now=utcnow(),
              comment=WITHDRAWN_BECAUSE.format(why=why))
    return found


def sync_from_run(session: Session, run: QualityRun) -> list[QualityIssue]:
    """Open, update, verify or reopen the issues of `run`'s table; returns those touched.

    Results of rules deleted since (no rule id) are skipped: nobody can rectify against them;
    their issues, and those of disabled rules, are withdrawn."""
    withdrawn = withdraw_orphans(session, run.warehouse_table)
    if run.status != "succeeded":
        return withdrawn
    results: list[QualityResult] = [r for r in run.results if r.rule_id is not None]
    if not results:
        return withdrawn
    table, now = run.warehouse_table, utcnow()
    at = (run.finished_at or now).isoformat(timespec="seconds")
    issues = _existing(session, table, (rule_subject(r.rule_id or 0) for r in results))
    provider = provider_orgs(session, [table])[table]
    touched = list(withdrawn)
    for result in results:
        subject = rule_subject(result.rule_id or 0)
        issue = issues.get(subject)
        if issue is None:
            if result.passed:
                continue
            touched.append(_open(
                session, table=table, subject=subject, origin="rule", org=provider,
                kind=result.kind, columns=list(result.columns), dimension=result.dimension,
                severity=result.severity, checked=result.checked, failed=result.failed,
                sample=list(result.sample), rule_id=result.rule_id, run_id=run.id, now=now,
                comment=f"{result.failed} of {result.checked} fail (pass rate "
                        f"{result.pass_rate:.2%}, threshold {result.threshold:.0%})"))
            continue
        issue.checked, issue.failed, issue.last_run_id = result.checked, result.failed, run.id
        issue.kind, issue.columns, issue.dimension = result.kind, list(result.columns), \
            result.dimension
        issue.severity = result.severity
        if not result.passed:
            issue.sample = list(result.sample)[:SAMPLE]
        if issue.org_id is None and provider is not None:
            issue.org_id = provider.id
        target = states.after_run(issue.state, result.passed)
        if target is not None:
            comment = (PASSED_AGAIN.format(at=at) if result.passed
                       else FAILS_AGAIN.format(at=at, failed=result.failed))
            if target == states.VERIFIED and issue.state != states.SUBMITTED:
                comment += " (closed without a submission)"
            _move(session, issue, target, actor=SYSTEM, comment=comment, now=now)
        touched.append(issue)
    session.flush()
    return touched


def sync_conflicts(session: Session, warehouse: Engine) -> list[QualityIssue]:
    """Base-library conflicts as issues of the disagreeing source's provider: one per base
    table, field and source, with the conflict count; gone conflicts verify their issue."""
    from datapolis.baselib import service as baselib  # baselib imports the warehouse stack

    now = utcnow()
    counts = baselib.conflict_counts(warehouse)
    current = {(f"base.{row['library']}", conflict_subject(row["library"], row["field"],
                                                            row["source"])): row
               for row in counts}
    known = {(i.warehouse_table, i.subject): i for i in session.scalars(
        select(QualityIssue).where(QualityIssue.origin == "baselib")
        .options(selectinload(QualityIssue.events)))}
    providers = provider_orgs(session, [row["source"] for row in counts])
    touched = []
    for key, row in current.items():
        table, subject = key
        failed = int(row["conflicts"])
        sample = [{"link_key": c.link_key, "chosen_value": c.chosen_value,
                   "chosen_source": c.chosen_source, "other_value": c.other_value}
                  for c in baselib.conflicts(warehouse, library=row["library"],
                                             field=row["field"], other_source=row["source"],
                                             limit=SAMPLE)]
        issue = known.get(key)
        if issue is None:
            touched.append(_open(
                session, table=table, subject=subject, origin="baselib",
                org=providers.get(row["source"]), kind="baselib_conflict",
                columns=[row["field"]], dimension="一致性", severity="warning", checked=failed,
                failed=failed, sample=sample, rule_id=None, run_id=None, now=now,
                comment=f"{failed} records of {row['source']} disagree with the base library "
                        f"on {row['field']}"))
            continue
        issue.failed, issue.checked, issue.sample = failed, failed, sample
        target = states.after_run(issue.state, passes=False)
        if target is not None:
            _move(session, issue, target, actor=SYSTEM, now=now,
                  comment=f"the base library build still finds {failed} conflicts")
        touched.append(issue)
    for key, issue in known.items():
        if key not in current and issue.state != states.VERIFIED:
            issue.failed = 0
            _move(session, issue, states.VERIFIED, actor=SYSTEM, now=now,
                  comment="the base library build finds no conflicts any more")
            touched.append(issue)
    session.flush()
    return touched


def conflict_issues(session: Session, conflicts: Iterable[tuple[str, str, str]],
                    tables_of: Mapping[str, Iterable[str]] | None = None
                    ) -> dict[tuple[str, str, str], int]:
    """The issue opened for each (library, field, disagreeing std table) of base-library
    conflicts: the library's own conflict issue for that source, else the issue of a
    consistency rule against the library on that std table (or on one of `tables_of` it, the
    ods tables behind it)."""
    wanted = set(conflicts)
    if not wanted:
        return {}
    found: dict[tuple[str, str, str], int] = {}
    by_subject = {(f"base.{lib}", conflict_subject(lib, field, source)): (lib, field, source)
                  for lib, field, source in wanted}
    for issue_id, table, subject in session.execute(
            select(QualityIssue.id, QualityIssue.warehouse_table, QualityIssue.subject)
            .where(QualityIssue.origin == "baselib",
                   QualityIssue.subject.in_([s for _, s in by_subject]))):
        if (table, subject) in by_subject:
            found[by_subject[(table, subject)]] = issue_id
    behind = {source: {source, *((tables_of or {}).get(source, ()))}
              for _, _, source in wanted}
    tables = {t for ts in behind.values() for t in ts}
    rules = session.execute(
        select(QualityIssue.id, QualityIssue.warehouse_table, QualityRule.params)
        .join(QualityRule, QualityRule.id == QualityIssue.rule_id)
        .where(QualityIssue.kind == "consistency", QualityIssue.warehouse_table.in_(tables))
        .order_by(QualityIssue.id))
    for issue_id, table, params in rules:
        for key in wanted - set(found):
            lib, field, source = key
            if (table in behind[source] and params.get("table") == f"base.{lib}"
                    and params.get("column") == field):
                found[key] = issue_id
    return found


# --- people --------------------------------------------------------------------------------

def get_issue(session: Session, issue_id: int) -> QualityIssue:
    issue = session.scalar(select(QualityIssue).where(QualityIssue.id == issue_id)
                           .options(selectinload(QualityIssue.events),
                                    selectinload(QualityIssue.org)))
    if issue is None:
        raise NotFound(f"no quality issue {issue_id}")
    return issue


def transition(session: Session, issue: QualityIssue, target: str, *, actor: str,
               comment: str | None = None) -> QualityIssue:
    """A person's move (acknowledge, start rectifying, submit as fixed); 409 when illegal."""
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > 2000:
        raise UserError("a comment may be at most 2,000 characters")
    states.check_manual(issue.state, target)
    _move(session, issue, target, actor=actor, comment=comment, now=utcnow())
    return issue


def is_overdue(issue: QualityIssue, now: datetime | None = None) -> bool:
    return issue.state in states.PENDING and issue.due_at < (now or utcnow())


def list_issues(session: Session, *, org_ids: Iterable[int] | None = None,
                state: str | None = None, overdue: bool | None = None,
                table: str | None = None, limit: int = 500) -> list[QualityIssue]:
    """Issues, newest change first; `org_ids` None means every organisation's."""
    if state is not None and state not in states.STATES:
        raise UserError(f"unknown issue state {state!r}; states are {', '.join(states.STATES)}")
    query = select(QualityIssue).options(selectinload(QualityIssue.org))
    if org_ids is not None:
        query = query.where(QualityIssue.org_id.in_(list(org_ids)))
    if state is not None:
        query = query.where(QualityIssue.state == state)
    if table is not None:
        query = query.where(QualityIssue.warehouse_table == table)
    if overdue is not None:
        late = (QualityIssue.state.in_(states.PENDING)) & (QualityIssue.due_at < utcnow())
        query = query.where(late if overdue else ~late)
    query = query.order_by(QualityIssue.state_changed_at.desc(), QualityIssue.id.desc())
    return list(session.scalars(query.limit(max(1, min(limit, 5000)))))


def shown_sample(session: Session, issue: QualityIssue) -> tuple[list[dict[str, Any]], list[str]]:
    """The issue's sample masked by field grade, as the engine's results are shown."""
    rows = [row for row in issue.sample if isinstance(row, dict)]
    if issue.origin == "baselib":  # link keys (ID numbers) and values masked, sources shown
        how: dict[str, Treatment] = {k: "masked" for r in rows for k in r}
        how["chosen_source"] = "shown"
        return samples.masked(rows, how)
    return samples.masked(rows, samples.treatments(session, issue.warehouse_table))


# --- rectification rates -------------------------------------------------------------------

@dataclass(frozen=True)
class Rectification:
    org_id: int | None
    org_code: str | None
    org_name: str
    opened: int  # issues opened, less those withdrawn with their rule
    verified: int
    pending: int
    overdue: int
    on_time: int

    @property
    def rate(self) -> float | None:
        """Verified share of the issues ever opened."""
        return self.verified / self.opened if self.opened else None

    @property
    def on_time_share(self) -> float | None:
        """Share of the verified issues whose fix was in (submitted, or passing) by the due
        date."""
        return self.on_time / self.verified if self.verified else None


def _on_time(issue: QualityIssue) -> bool:
    done = issue.submitted_at or issue.verified_at
    return done is not None and done <= issue.due_at


def rectification(session: Session, *, org_ids: Iterable[int] | None = None
                  ) -> list[Rectification]:
    """Per provider organisation: issues opened, verified, pending, overdue and on time."""
    now = utcnow()
    groups: dict[int | None, list[QualityIssue]] = {}
    query = select(QualityIssue).options(selectinload(QualityIssue.org))
    if org_ids is not None:
        query = query.where(QualityIssue.org_id.in_(list(org_ids)))
    for issue in session.scalars(query.where(QualityIssue.state != states.WITHDRAWN)):
        groups.setdefault(issue.org_id, []).append(issue)
    out = []
    for org_id, items in groups.items():
        org = items[0].org
        verified = [i for i in items if i.state == states.VERIFIED]
        out.append(Rectification(
            org_id=org_id, org_code=org.code if org else None,
            org_name=org.name if org else "—", opened=len(items),
            verified=len(verified), pending=sum(i.state in states.PENDING for i in items),
            overdue=sum(is_overdue(i, now) for i in items),
            on_time=sum(_on_time(i) for i in verified)))
    return sorted(out, key=lambda r: (-(r.rate or 0), r.org_name))
