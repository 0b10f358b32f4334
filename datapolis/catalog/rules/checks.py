"""Running the rules over entries, and the gate that keeps failing entries off the shelf."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext, build_context
from datapolis.catalog.rules.registry import Finding, Rule, Severity, list_rules
from datapolis.errors import Conflict
from datapolis.warehouse.engine import Engine


class Outcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Result:
    rule: Rule
    outcome: Outcome
    findings: tuple[Finding, ...] = ()

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def blocking(self) -> bool:
        return self.failed and self.rule.severity is Severity.BLOCKING


def check_entry(
    entry: CatalogEntry, ctx: RuleContext, rules: Sequence[Rule] | None = None
) -> list[Result]:
    """Every rule's verdict on `entry`, in rule order."""
    results = []
    for rule in rules if rules is not None else list_rules():
        if rule.applies is not None and not rule.applies(entry, ctx):
            results.append(Result(rule, Outcome.NOT_APPLICABLE))
            continue
        findings = tuple(rule.check(entry, ctx))
        results.append(Result(rule, Outcome.FAILED if findings else Outcome.PASSED, findings))
    return results


def failures(results: Iterable[Result], severity: Severity | None = None) -> list[Result]:
    return [r for r in results if r.failed and (severity is None or r.rule.severity is severity)]


def check_one(
    session: Session, entry: CatalogEntry, *, warehouse: Engine | None = None
) -> list[Result]:
    return check_entry(entry, build_context(session, warehouse=warehouse))


class BlockedByRules(Conflict):
    """An entry cannot be published while blocking rules fail."""

    def __init__(self, entry: CatalogEntry, blocking: Sequence[Result]) -> None:
        self.codes = [r.rule.code for r in blocking]
        named = "; ".join(
            f"{r.rule.code} {r.rule.title}: " + ", ".join(f.text() for f in r.findings)
            for r in blocking
        )
        super().__init__(f"entry {entry.resource_code} cannot be published while blocking "
                         f"normalisation rules fail: {named}")


def check_publishable(session: Session, entry: CatalogEntry) -> None:
    """Raise BlockedByRules (409) naming every blocking rule `entry` fails."""
    blocking = failures(check_one(session, entry), Severity.BLOCKING)
    if blocking:
        raise BlockedByRules(entry, blocking)
