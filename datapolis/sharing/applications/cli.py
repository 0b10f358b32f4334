"""`datapolis sharing applications|approve|reject|grants|revoke`: the application queue and
grants for operators' scripts. Decisions are taken as a named user (`--as`), under the same
rules as on the web: the provider's administrators first, then the bureau."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry
from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.orgs import service as orgs
from datapolis.orgs.cli import registry_session
from datapolis.orgs.deps import Principal
from datapolis.orgs.models import Organisation
from datapolis.orgs.permissions import ROLE_PERMISSIONS
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.sharing.applications import service
from datapolis.sharing.applications.models import State
from datapolis.sharing.grants import service as grants
from datapolis.sharing.grants.items import GrantedItem, describe
from datapolis.sharing.grants.models import Grant
from datapolis.sharing.grants.service import SHANGHAI, Limits

console = Console()

AsUser = Annotated[str, typer.Option("--as", help="username of the deciding user")]


def _person(session: Session, username: str) -> Principal:
    user = orgs.get_user(session, username)
    if not user.is_active:
        raise UserError(f"user {username} is disabled")
    audit.act_as(session, user.username, user.org.code)
    return Principal(org=user.org, permissions=ROLE_PERMISSIONS[user.role], via="cli", user=user)


def _org_name(session: Session, org_id: int) -> str:
    org = session.get(Organisation, org_id)
    return org.code if org else "-"


def _day_end(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise UserError(f"{text!r} is not a date (yyyy-mm-dd)") from None
    return datetime.combine(day, time.max, tzinfo=SHANGHAI).astimezone(UTC)


def applications(
    state: Annotated[State | None, typer.Option("--state", help="one state")] = None,
    org: Annotated[str | None, typer.Option("--org", help="organisation code (either side)")]
    = None,
    queue_of: Annotated[str | None, typer.Option("--queue", help="what waits for this user")]
    = None,
) -> None:
    """List applications (newest first), or one user's approval queue."""
    with registry_session() as session:
        if queue_of:
            found = service.queue(session, _person(session, queue_of))
        else:
            ids = {orgs.get_organisation(session, org).id} if org else None
            found = service.list_applications(session, consumer_ids=ids, provider_ids=ids,
                                              states={state} if state else None)
        table = Table("code", "resource", "provider", "consumer", "applicant", "state",
                      "grant", "submitted")
        for a in found:
            entry = session.get(CatalogEntry, a.entry_id)
            grant = session.get(Grant, a.grant_id) if a.grant_id else None
            table.add_row(a.code, entry.resource_code if entry else "-",
                          _org_name(session, a.provider_org_id),
                          _org_name(session, a.consumer_org_id), a.applicant, a.state.value,
                          grant.code if grant else "", f"{a.created_at.astimezone(SHANGHAI):%F %R}")
        console.print(table)
        console.print(f"{len(found)} applications", highlight=False)


def approve(
    code: str, as_user: AsUser,
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    items: Annotated[str | None, typer.Option(
        "--items", help="comma-separated columns: a subset of the requested items")] = None,
    scope: Annotated[str | None, typer.Option(
        "--scope", help='row scope, e.g. \'xzqh_dm prefix "371302"\'')] = None,
    all_rows: Annotated[bool, typer.Option("--all-rows", help="no row scope at all")] = False,
    calls_per_day: Annotated[int | None, typer.Option("--calls-per-day")] = None,
    rows_per_day: Annotated[int | None, typer.Option("--rows-per-day")] = None,
    rate: Annotated[float | None, typer.Option("--rate", help="calls per second")] = None,
    until: Annotated[str | None, typer.Option("--until", help="last valid day, yyyy-mm-dd")]
    = None,
) -> None:
    """Approve an application as `--as` (provider admin, then the bureau)."""
    with registry_session() as session:
        application = service.get_application(session, code)
        given = any(v is not None for v in (items, scope, calls_per_day, rows_per_day, rate,
                                            until)) or all_rows
        terms = service.Terms(
            columns=[c.strip() for c in items.split(",") if c.strip()] if items else None,
            row_scope=scope, default_scope=not all_rows,
            limits=Limits(calls_per_day, rows_per_day, rate),
            valid_until=_day_end(until)) if given else None
        service.approve(session, application, _person(session, as_user), comment=comment,
                        terms=terms, bureau_review=get_settings().sharing_bureau_review)
        grant = session.get(Grant, application.grant_id) if application.grant_id else None
        console.print(f"{application.code}: {application.state.value}"
                      + (f", grant {grant.code}" if grant else ""), highlight=False)


def reject(code: str, as_user: AsUser,
           comment: Annotated[str, typer.Option("--comment", help="why (required)")]) -> None:
    """Reject an application as `--as`, with a comment."""
    with registry_session() as session:
        application = service.get_application(session, code)
        service.reject(session, application, _person(session, as_user), comment=comment)
        console.print(f"{application.code}: {application.state.value}", highlight=False)


def grant_list(
    org: Annotated[str | None, typer.Option("--org", help="organisation code (either side)")]
    = None,
) -> None:
    """List grants with their items, row scope, limits and status."""
    with registry_session() as session:
        ids = {orgs.get_organisation(session, org).id} if org else None
        found = grants.list_grants(session, org_ids=ids)
        now = utcnow()
        table = Table("code", "resource", "provider", "consumer", "items", "row scope",
                      "calls/day", "until", "status")
        for g in found:
            entry = session.get(CatalogEntry, g.entry_id)
            items = ", ".join(describe(GrantedItem(i.column, i.method, i.params))
                              for i in g.items)
            table.add_row(g.code, entry.resource_code if entry else "-",
                          _org_name(session, g.provider_org_id),
                          _org_name(session, g.consumer_org_id), items, g.row_scope or "",
                          str(g.calls_per_day or ""),
                          f"{g.valid_until.astimezone(SHANGHAI):%F}" if g.valid_until else "",
                          grants.status(g, now))
        console.print(table)
        console.print(f"{len(found)} grants", highlight=False)


def revoke(code: str,
           reason: Annotated[str | None, typer.Option("--reason")] = None,
           as_user: Annotated[str | None, typer.Option(
               "--as", help="username (the provider's admin or the bureau); default: the "
               "operator, as the bureau")] = None) -> None:
    """Revoke a grant; the next call under it is refused."""
    with registry_session() as session:
        grant = grants.get_grant(session, code)
        actor = audit.acting(session)[0]
        if as_user:
            from datapolis.sharing.grants.api import may_manage

            person = _person(session, as_user)
            if not may_manage(person, grant):
                raise UserError(f"{as_user} may not revoke grant {code}: only the providing "
                                "department's administrators or the bureau")
            actor = person.name
        grants.revoke_grant(session, grant, actor=actor, reason=reason)
        console.print(f"{grant.code}: revoked", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the application and grant verbs to the `sharing` group."""
    app.command("applications")(applications)
    app.command("approve")(approve)
    app.command("reject")(reject)
    app.command("grants")(grant_list)
    app.command("revoke")(revoke)
