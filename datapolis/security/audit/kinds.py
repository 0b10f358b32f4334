"""The audit log's vocabulary: every event kind the platform records, when, and its details.

docs/audit.md carries the same table and a test keeps the two equal; the auditor pages offer
these kinds as a filter. Details name what was touched, never a password, secret, token or a
data value: data access is recorded in summary (which table, how many rows, which columns).

The helpers at the bottom are for slices that are not built yet (sharing grants and interface
calls), so that their events have one shape from the first day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from datapolis.security.audit.service import record


@dataclass(frozen=True)
class Kind:
    name: str
    when: str
    details: tuple[str, ...]


KINDS: tuple[Kind, ...] = (
    Kind("auth.login", "a user signed in (login form or password token), or an app obtained a "
         "token with its key and secret; the actor of an app is `app:<key>`",
         ("method", "address")),
    Kind("auth.login_failed", "a sign-in was refused: unknown account, wrong password or "
         "secret, disabled user or revoked app", ("method", "reason", "address")),
    Kind("auth.logout", "a user signed out of a web session", ("via",)),
    Kind("auth.token_revoked", "a bearer token was given up through /api/v1/auth/revoke",
         ("token_kind",)),
    Kind("auth.password_changed", "a password was set (by an administrator or on the CLI); "
         "every session and token of the user ends", ("user",)),
    Kind("user.created", "a user was created", ("user", "role")),
    Kind("user.role_changed", "a user's role changed (this is how organisation admin rights "
         "are granted and taken away)", ("user", "from", "to")),
    Kind("user.disabled", "a user was deactivated; their sessions and tokens end", ("user",)),
    Kind("user.enabled", "a deactivated user was activated again", ("user",)),
    Kind("org.created", "an organisation was added to the tree",
         ("code", "kind", "division_code", "parent")),
    Kind("org.updated", "an organisation's name, division code or parent changed",
         ("code", "changed")),
    Kind("app.created", "an API app was registered (its secret is shown once, never logged)",
         ("app", "name")),
    Kind("app.secret_rotated", "an app's secret was replaced; its tokens end", ("app",)),
    Kind("app.revoked", "an app was disabled for good; its tokens end", ("app",)),
    Kind("app.signing_issued", "an app was issued a secret that signs sharing-interface calls "
         "(kept sealed, never logged); its previous secret and tokens end",
         ("app", "algorithm")),
    Kind("source.registered", "a department database, file or API was registered as a source "
         "(the names of its credential fields, never their values)",
         ("source", "kind", "options", "secret_fields")),
    Kind("source.tables_chosen", "tables of a source were chosen for the data highway",
         ("source", "tables")),
    Kind("job.created", "a sync job (and its schedule) was set up", ("job", "table", "mode",
         "schedule")),
    Kind("job.run_requested", "a person started a sync job by hand (`run now` page button or "
         "`datapolis sync run`)", ("job", "via")),
    Kind("job.released", "a cdc job's replication slot and offset were dropped", ("job",)),
    Kind("standards.seeded", "the national data elements and code tables were loaded",
         ("data_elements", "code_tables")),
    Kind("catalog.imported", "catalog entries were imported from an XLSX workbook",
         ("filename", "imported", "errors")),
    Kind("catalog.submit", "a catalog entry was submitted for review",
         ("entry", "from", "to", "comment")),
    Kind("catalog.approve", "the bureau approved an entry", ("entry", "from", "to", "comment")),
    Kind("catalog.reject", "the bureau sent an entry back", ("entry", "from", "to", "comment")),
    Kind("catalog.publish", "an entry was published (上架)", ("entry", "from", "to", "comment")),
    Kind("catalog.retire", "an entry was retired (下架)", ("entry", "from", "to", "comment")),
    Kind("catalog.reopen", "an entry went back to draft", ("entry", "from", "to", "comment")),
    Kind("export.catalog", "catalog entries were exported (JSON, API or CLI)",
         ("format", "entries")),
    Kind("export.list", "one of the bureau's lists (汇聚/共享/开放清单) was downloaded as XLSX",
         ("list", "format", "rows", "filters")),
    Kind("export.demands", "the supply–demand list (供需清单) was downloaded as XLSX",
         ("format", "rows")),
    Kind("export.audit_checkpoints", "the signed checkpoints were exported for witnesses",
         ("checkpoints",)),
    Kind("export.audit_log", "audit events were exported as JSON Lines", ("from", "to",
         "events")),
    Kind("data.previewed", "sample rows of a catalogued table were shown (masked by grade)",
         ("entry", "table", "rows", "columns")),
    Kind("data.accessed", "rows were read through a grant (sharing interfaces, downloads)",
         ("grant", "table", "rows", "columns", "interface")),
    Kind("grant.created", "a grant gave an organisation access to a resource",
         ("grant", "resource", "grantee", "fields", "expires")),
    Kind("grant.revoked", "a grant was withdrawn", ("grant", "resource", "grantee", "reason")),
    Kind("sharing.application.submitted", "a department applied for a published resource "
         "(共享申请)", ("application", "resource", "from", "to", "comment")),
    Kind("sharing.application.provider_approved", "the providing department approved an "
         "application", ("application", "resource", "from", "to", "comment")),
    Kind("sharing.application.provider_rejected", "the providing department rejected an "
         "application", ("application", "resource", "from", "to", "comment")),
    Kind("sharing.application.bureau_approved", "the bureau approved an application",
         ("application", "resource", "from", "to", "comment")),
    Kind("sharing.application.bureau_rejected", "the bureau rejected an application",
         ("application", "resource", "from", "to", "comment")),
    Kind("sharing.application.granted", "an application became a grant (at once for 无条件共享 "
         "resources, actor `system`)", ("application", "resource", "from", "to", "comment")),
    Kind("sharing.application.withdrawn", "the applying department withdrew an application",
         ("application", "resource", "from", "to", "comment")),
    Kind("portal.application.submitted", "a registered public user applied for a "
         "conditionally open dataset (有条件开放); the actor is `public:<username>`",
         ("application", "dataset")),
    Kind("portal.application.decided", "a provider or the bureau approved, rejected or revoked "
         "a public user's application", ("application", "dataset", "user", "decision")),
    Kind("grant.changed", "a grant's row scope, limits, end or items' de-identification "
         "changed (never below the security policy)",
         ("grant", "resource", "changed", "row_scope", "items")),
    Kind("sharing.alert.acknowledged", "the bureau acknowledged a sharing alert (calls without "
         "a grant, quota, spike, off-hours bulk pull) with a comment",
         ("alert", "kind", "key", "resource", "comment")),
    Kind("export.sharing_stats", "call statistics were exported for publication (no app, no "
         "address, organisations at the chosen level, times rounded)",
         ("format", "interval", "org_level", "from", "to", "rows")),
    Kind("grade.confirmed", "a person confirmed a field's suggested security grade",
         ("entry", "item", "column", "grade", "before", "suggested", "suggested_kind", "via")),
    Kind("grade.changed", "a person gave a field a grade other than the suggested one",
         ("entry", "item", "column", "grade", "before", "suggested", "suggested_kind", "via")),
    Kind("grade.category_assigned", "a catalog entry was assigned a business of the "
         "classification scheme", ("entry", "category", "sector", "before", "via")),
    Kind("grade.scheme_imported", "a classification scheme was imported (or the default "
         "loaded)", ("via", "replace", "added", "updated", "removed")),
    Kind("grade.scheme_changed", "a category of the classification scheme was added, renamed "
         "or removed", ("action", "code", "name", "parent")),
    Kind("quality.issue.open", "a failing quality rule (or base-library conflicts with a "
         "source) opened an issue for the provider department; actor `system`",
         ("issue", "table", "subject", "from", "to", "comment")),
    Kind("quality.issue.acknowledged", "a department acknowledged a quality issue",
         ("issue", "table", "subject", "from", "to", "comment")),
    Kind("quality.issue.rectifying", "a department started rectifying a quality issue (also "
         "after it was reopened)",
         ("issue", "table", "subject", "from", "to", "comment")),
    Kind("quality.issue.submitted", "a department submitted a quality issue as fixed",
         ("issue", "table", "subject", "from", "to", "comment")),
    Kind("quality.issue.verified", "the next run of the table found the rule passing (or the "
         "conflicts gone) and closed the issue; actor `system`",
         ("issue", "table", "subject", "from", "to", "comment")),
    Kind("quality.issue.reopened", "the next run still found the rule failing after a "
         "submission, or a verified rule failed again; actor `system`",
         ("issue", "table", "subject", "from", "to", "comment")),
    Kind("quality.issue.withdrawn", "the issue's rule was disabled or deleted, so no run can "
         "verify it: closed as rule withdrawn (actor: who withdrew the rule, or `system`)",
         ("issue", "table", "subject", "from", "to", "comment")),
)

BY_NAME = {kind.name: kind for kind in KINDS}


# --- helpers for the sharing slice --------------------------------------------------------


def grant_created(
    session: Session, *, grant: str, resource: str, grantee: str, fields: Sequence[str],
    expires: str | None,
) -> int:
    """Record a new grant in the transaction that creates it; `expires` is an ISO date."""
    return record(session, kind="grant.created", details={
        "grant": grant, "resource": resource, "grantee": grantee, "fields": sorted(fields),
        "expires": expires})


def grant_revoked(
    session: Session, *, grant: str, resource: str, grantee: str, reason: str | None = None
) -> int:
    return record(session, kind="grant.revoked", details={
        "grant": grant, "resource": resource, "grantee": grantee, "reason": reason})


def data_accessed(
    session: Session, *, table: str, rows: int, columns: Sequence[str],
    grant: str | None = None, interface: str | None = None,
) -> int:
    """Record who read how many rows of which columns of a table; never the values."""
    return record(session, kind="data.accessed", details={
        "grant": grant, "table": table, "rows": rows, "columns": list(columns),
        "interface": interface})


def data_previewed(
    session: Session, *, entry: str, table: str, rows: int, columns: Sequence[str]
) -> int:
    return record(session, kind="data.previewed", details={
        "entry": entry, "table": table, "rows": rows, "columns": list(columns)})
