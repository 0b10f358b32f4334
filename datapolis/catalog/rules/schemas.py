"""What the rules API returns."""

from __future__ import annotations

from pydantic import BaseModel

from datapolis.catalog.rules.checks import Outcome, Result
from datapolis.catalog.rules.registry import Category, Rule, Severity
from datapolis.catalog.rules.report import Counts, OrgReport


class RulePublic(BaseModel):
    code: str
    title: str
    title_zh: str
    category: Category
    severity: Severity
    description: str

    @classmethod
    def of(cls, rule: Rule) -> RulePublic:
        return cls(code=rule.code, title=rule.title, title_zh=rule.title_zh,
                   category=rule.category, severity=rule.severity,
                   description=rule.description)


class ResultPublic(BaseModel):
    code: str
    severity: Severity
    outcome: Outcome
    findings: list[str]  # English

    @classmethod
    def of(cls, result: Result) -> ResultPublic:
        return cls(code=result.rule.code, severity=result.rule.severity,
                   outcome=result.outcome, findings=[f.text() for f in result.findings])


class CountsPublic(BaseModel):
    passed: int
    failed_blocking: int
    failed_warning: int
    not_applicable: int
    pass_rate: float | None  # passed over applicable checks

    @classmethod
    def of(cls, counts: Counts) -> CountsPublic:
        return cls(passed=counts.passed, failed_blocking=counts.failed_blocking,
                   failed_warning=counts.failed_warning, not_applicable=counts.not_applicable,
                   pass_rate=counts.pass_rate)


class EntryResultsPublic(BaseModel):
    resource_code: str
    name: str
    status: str
    blocked: bool
    outcomes: dict[str, Outcome]  # every rule code
    failures: list[ResultPublic]


class OrgReportPublic(BaseModel):
    code: str
    name: str
    entries: int
    entries_blocked: int
    counts: CountsPublic
    results: list[EntryResultsPublic]

    @classmethod
    def of(cls, org: OrgReport) -> OrgReportPublic:
        return cls(
            code=org.org.code, name=org.org.name, entries=len(org.rows),
            entries_blocked=org.entries_blocked, counts=CountsPublic.of(org.counts),
            results=[EntryResultsPublic(
                resource_code=row.entry.resource_code, name=row.entry.name,
                status=row.entry.status.value, blocked=row.blocked,
                outcomes={r.rule.code: r.outcome for r in row.results},
                failures=[ResultPublic.of(r) for r in row.results if r.failed],
            ) for row in org.rows],
        )


class ReportPublic(BaseModel):
    rules: list[RulePublic]
    counts: CountsPublic
    organisations: list[OrgReportPublic]
