"""The entry lifecycle: which action moves an entry from which status to which, and who may.

    draft ──submit──▶ submitted ──approve──▶ approved ──publish──▶ published ──retire──▶ retired
      ▲                  │                      │                                        │
      └──(edit)── rejected ◀──────reject────────┘                                        │
      └────────────────────────────────reopen────────────────────────────────────────────┘

Only drafts and rejected entries can be edited (editing a rejected entry makes it a draft
again); a published entry is retired and reopened before it changes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from datapolis.catalog.enums import EntryStatus
from datapolis.orgs.permissions import Permission
from datapolis.web.i18n import N_


class Action(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    RETIRE = "retire"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[EntryStatus]
    target: EntryStatus
    permission: Permission
    label: str  # English msgid of the button
    needs_comment: bool = False


S = EntryStatus
TRANSITIONS: dict[Action, Transition] = {
    Action.SUBMIT: Transition(frozenset({S.DRAFT, S.REJECTED}), S.SUBMITTED,
                              Permission.SUBMIT_CATALOG, N_("Submit for review")),
    Action.APPROVE: Transition(frozenset({S.SUBMITTED}), S.APPROVED,
                               Permission.REVIEW_CATALOG, N_("Approve")),
    Action.REJECT: Transition(frozenset({S.SUBMITTED, S.APPROVED}), S.REJECTED,
                              Permission.REVIEW_CATALOG, N_("Reject"), needs_comment=True),
    Action.PUBLISH: Transition(frozenset({S.APPROVED}), S.PUBLISHED,
                               Permission.REVIEW_CATALOG, N_("Publish")),
    Action.RETIRE: Transition(frozenset({S.PUBLISHED}), S.RETIRED,
                              Permission.REVIEW_CATALOG, N_("Retire")),
    Action.REOPEN: Transition(frozenset({S.REJECTED, S.RETIRED}), S.DRAFT,
                              Permission.EDIT_CATALOG, N_("Reopen as draft")),
}
EDITABLE = frozenset({S.DRAFT, S.REJECTED})

# What the version history calls each change.
ACTION_LABELS: dict[str, str] = {
    "created": N_("Entry created"),
    "edited": N_("Edited"),
    "reclassified": N_("Reclassified (new resource code)"),
    "mapped": N_("Item mapped to a data element"),
    "graded": N_("Security grades confirmed"),
    "submitted": N_("Submitted for review"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "published": N_("Published"),
    "retired": N_("Retired"),
    "reopened": N_("Reopened as draft"),
}
PAST_TENSE = {Action.SUBMIT: "submitted", Action.APPROVE: "approved", Action.REJECT: "rejected",
              Action.PUBLISH: "published", Action.RETIRE: "retired", Action.REOPEN: "reopened"}


def allowed_actions(status: EntryStatus) -> list[Action]:
    return [action for action, rule in TRANSITIONS.items() if status in rule.sources]
