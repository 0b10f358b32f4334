"""The issue states and who moves an issue between them.

    open ─► acknowledged ─► rectifying ─► submitted ─► verified        (people: the first three
                                ▲              │                        arrows; the platform:
                                └── reopened ◄─┘                        the last two, on a run)

A department acknowledges, starts rectifying and submits as fixed. The next quality run of the
table decides: the rule passes → verified; it still fails → reopened (and the department
rectifies again). A rule that passes while its issue is still open (never submitted) closes
the issue as verified too: the data is right, whoever fixed it. A verified issue whose rule
fails again is reopened rather than duplicated.

A rule that is disabled or deleted can never verify its issue, so the issue closes as
`withdrawn` (rule withdrawn) instead: a terminal state of its own, so rectification rates do
not count it as fixed. Should the rule come back (re-enabled) and fail, the issue reopens.
"""

from __future__ import annotations

from datetime import timedelta

from datapolis.errors import Conflict

OPEN, ACKNOWLEDGED, RECTIFYING, SUBMITTED, VERIFIED, REOPENED, WITHDRAWN = (
    "open", "acknowledged", "rectifying", "submitted", "verified", "reopened", "withdrawn")
STATES = (OPEN, ACKNOWLEDGED, RECTIFYING, SUBMITTED, REOPENED, VERIFIED, WITHDRAWN)
# States no run moves out of unless the rule fails again.
CLOSED = frozenset({VERIFIED, WITHDRAWN})
# States in which the department still owes work: these can be overdue.
PENDING = frozenset({OPEN, ACKNOWLEDGED, RECTIFYING, REOPENED})

# Moves a person makes (the department, or the bureau on its behalf).
MANUAL: dict[str, frozenset[str]] = {
    OPEN: frozenset({ACKNOWLEDGED}),
    ACKNOWLEDGED: frozenset({RECTIFYING}),
    RECTIFYING: frozenset({SUBMITTED}),
    REOPENED: frozenset({RECTIFYING}),
}

# Days to rectify, by the failing rule's severity, counted from opening (or reopening).
DUE_DAYS = {"error": 7, "warning": 15, "info": 30}


def due_after(severity: str) -> timedelta:
    return timedelta(days=DUE_DAYS.get(severity, DUE_DAYS["warning"]))


def check_manual(current: str, target: str) -> None:
    """Refuse a move a person may not make from `current` (409 with what is allowed)."""
    if target not in STATES:
        raise Conflict(f"unknown issue state {target!r}; states are {', '.join(STATES)}")
    allowed = MANUAL.get(current, frozenset())
    if target not in allowed:
        hint = (f"from {current} an issue may go to {', '.join(sorted(allowed))}" if allowed
                else f"{current} issues move only when the table is checked again")
        raise Conflict(f"an issue cannot go from {current} to {target}: {hint}")


def after_run(current: str, passes: bool) -> str | None:
    """The state a quality run moves an issue to, or None when it stays."""
    if passes:
        return None if current in CLOSED else VERIFIED
    if current in (SUBMITTED, VERIFIED, WITHDRAWN):
        return REOPENED
    return None
