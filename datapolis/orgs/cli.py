"""CLI verbs of the identity slice: `users`, `apps` and `orgs` sub-apps for the main command.

They open the registry named by the settings directly (no server needed): an operator creates
the first platform admin this way before anyone can log in.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from datapolis.config import get_settings
from datapolis.errors import ConfigError, UserError
from datapolis.orgs import service
from datapolis.orgs.models import OrgKind, Role
from datapolis.security.audit import service as audit

users = typer.Typer(help="People who sign in: create, list, set passwords, deactivate.",
                    no_args_is_help=True)
apps = typer.Typer(help="API apps (app key + secret) of an organisation.", no_args_is_help=True)
orgs = typer.Typer(help="The organisation tree: city, counties, streets, departments.",
                   no_args_is_help=True)

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def cli_actor() -> str:
    """How the audit log names an operator at the command line: `cli:<OS user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "cli:unknown"


@contextmanager
def registry_session() -> Iterator[Session]:
    """A registry unit of work; a user error becomes one red line and exit status 1."""
    from datapolis.registry import migrate
    from datapolis.registry.db import open_registry

    try:
        registry = open_registry(get_settings().registry_url, create=False)
        try:
            current, head = migrate.current_revision(registry), migrate.head_revision()
            if current != head:
                raise ConfigError(
                    f"registry is at {current or '(empty)'}, latest is {head}: "
                    "run `datapolis db upgrade`"
                )
            with registry.session() as session:
                audit.act_as(session, cli_actor(), None)
                yield session
        finally:
            registry.close()
    except UserError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, so `echo "$PW" | datapolis users create ...` works in scripts.
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


# --- users ---------------------------------------------------------------------------------


@users.command("create")
def create_user(
    username: str,
    org: Annotated[str, typer.Option(help="Code of the user's organisation.")],
    role: Annotated[Role, typer.Option(help="Role of the user.")] = Role.ORG_USER,
    name: Annotated[str | None, typer.Option(help="Display name (default: username).")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user; the password is prompted for (hidden) unless --password-stdin."""
    password = _read_password(password_stdin)
    with registry_session() as session:
        user = service.create_user(
            session,
            username=username,
            password=password,
            role=role,
            org=service.get_organisation(session, org),
            display_name=name,
        )
        console.print(f"created user {user.username} ({user.role}) in {user.org.name}")


@users.command("list")
def list_users(
    org: Annotated[str | None, typer.Option(help="Only this organisation and below.")] = None,
    role: Annotated[Role | None, typer.Option(help="Only this role.")] = None,
) -> None:
    """List users with their role, organisation and status."""
    with registry_session() as session:
        scope = None
        if org:
            scope = service.descendant_ids(session, service.get_organisation(session, org))
        table = Table("username", "name", "role", "organisation", "active", "last login (UTC)")
        for user in service.list_users(session, org_ids=scope, role=role):
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "-"
            table.add_row(
                user.username, user.display_name, user.role.value, user.org.code,
                "yes" if user.is_active else "no", last,
            )
        console.print(table)


@users.command("set-password")
def set_password(username: str, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; their sessions and tokens end."""
    password = _read_password(password_stdin)
    with registry_session() as session:
        user = service.get_user(session, username)
        service.set_password(session, user=user, password=password)
        console.print(f"password of {user.username} changed; their sessions and tokens ended")


@users.command("deactivate")
def deactivate_user(username: str) -> None:
    """Stop a user from signing in; their sessions and tokens end."""
    with registry_session() as session:
        user = service.get_user(session, username)
        service.update_user(session, user=user, is_active=False)
        console.print(f"deactivated {user.username}")


# --- API apps ------------------------------------------------------------------------------


@apps.command("create")
def create_app(
    name: str,
    org: Annotated[str, typer.Option(help="Code of the organisation the app belongs to.")],
) -> None:
    """Register an app and print its key and secret. The secret is shown this once."""
    with registry_session() as session:
        issued = service.create_app(session, org=service.get_organisation(session, org), name=name)
    # Printed only after the commit: a secret for an app that was never stored is worse than none.
    console.print(f"app_key: {issued.app.app_key}")
    console.print(f"app_secret: {issued.secret}")
    err_console.print("[yellow]store the secret now: it is not shown again[/]")


@apps.command("revoke")
def revoke_app(app_key: str) -> None:
    """Disable an app for good; its tokens stop working at once."""
    with registry_session() as session:
        app = service.get_app(session, app_key)
        service.revoke_app(session, app=app)
        console.print(f"revoked {app.app_key} ({app.name})")


@apps.command("list")
def list_apps(
    org: Annotated[str | None, typer.Option(help="Only this organisation and below.")] = None,
) -> None:
    """List apps with their organisation and status (never their secrets)."""
    with registry_session() as session:
        scope = None
        if org:
            scope = service.descendant_ids(session, service.get_organisation(session, org))
        table = Table("app key", "name", "organisation", "status")
        for app in service.list_apps(session, org_ids=scope):
            table.add_row(app.app_key, app.name, app.org.code,
                          "active" if app.revoked_at is None else "revoked")
        console.print(table)


# --- organisations -------------------------------------------------------------------------


@orgs.command("create")
def create_organisation(
    code: str,
    name: str,
    kind: Annotated[OrgKind, typer.Option(help="city, county, street or department.")],
    division: Annotated[str, typer.Option(help="GB/T 2260 division code (6 or 9 digits).")],
    parent: Annotated[str | None, typer.Option(help="Code of the parent organisation.")] = None,
) -> None:
    """Add an organisation to the tree."""
    with registry_session() as session:
        org = service.create_organisation(
            session,
            code=code,
            name=name,
            kind=kind,
            division_code=division,
            parent=service.get_organisation(session, parent) if parent else None,
        )
        console.print(f"created {org.kind.value} {org.name} ({org.code})")


@orgs.command("list")
def list_organisations() -> None:
    """List every organisation in division-code order."""
    with registry_session() as session:
        table = Table("code", "name", "kind", "division", "parent")
        for org in service.list_organisations(session):
            table.add_row(org.code, org.name, org.kind.value, org.division_code,
                          org.parent.code if org.parent else "")
        console.print(table)
