"""The normalisation report: for each provider organisation, its entries × the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.checks import Outcome, Result, check_entry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.registry import Rule, Severity, list_rules
from datapolis.orgs.models import Organisation


@dataclass
class EntryRow:
    entry: CatalogEntry
    results: list[Result]

    @property
    def by_code(self) -> dict[str, Result]:
        return {r.rule.code: r for r in self.results}

    @property
    def blocked(self) -> bool:
        return any(r.blocking for r in self.results)


@dataclass
class Counts:
    passed: int = 0
    failed_blocking: int = 0
    failed_warning: int = 0
    not_applicable: int = 0

    def add(self, result: Result) -> None:
        if result.outcome is Outcome.PASSED:
            self.passed += 1
        elif result.outcome is Outcome.NOT_APPLICABLE:
            self.not_applicable += 1
        elif result.rule.severity is Severity.BLOCKING:
            self.failed_blocking += 1
        else:
            self.failed_warning += 1

    @property
    def checked(self) -> int:
        return self.passed + self.failed_blocking + self.failed_warning

    @property
    def pass_rate(self) -> float | None:
        """Passed checks over applicable checks; None when nothing was checked."""
        return self.passed / self.checked if self.checked else None


@dataclass
class OrgReport:
    org: Organisation
    rows: list[EntryRow] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)

    @property
    def entries_blocked(self) -> int:
        return sum(1 for row in self.rows if row.blocked)


@dataclass
class Report:
    rules: list[Rule]
    orgs: list[OrgReport]
    counts: Counts

    def failing_rules(self) -> dict[str, int]:
        """How many entries fail each rule (rules that fail nowhere are left out)."""
        found: dict[str, int] = {}
        for org in self.orgs:
            for row in org.rows:
                for result in row.results:
                    if result.failed:
                        found[result.rule.code] = found.get(result.rule.code, 0) + 1
        return found


def build_report(entries: Sequence[CatalogEntry], ctx: RuleContext) -> Report:
    """One pass over `entries` (with their providers and items loaded) in one context."""
    rules = list_rules()
    orgs: dict[int, OrgReport] = {}
    total = Counts()
    for entry in entries:
        org = orgs.setdefault(entry.provider_id, OrgReport(entry.provider))
        results = check_entry(entry, ctx, rules)
        org.rows.append(EntryRow(entry, results))
        for result in results:
            org.counts.add(result)
            total.add(result)
    return Report(rules, sorted(orgs.values(), key=lambda o: o.org.code), total)
