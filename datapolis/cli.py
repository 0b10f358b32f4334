"""The `datapolis` command. Each slice contributes a Typer sub-app; this module assembles them.

Every user error is one red line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import errno
import socket
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from datapolis import __version__
from datapolis.baselib import cli as baselib_cli
from datapolis.catalog import autoregister
from datapolis.catalog import cli as catalog_cli
from datapolis.config import DEV_SECRET_KEY, ENV_PREFIX, Settings, get_settings
from datapolis.demo import cli as demo_cli
from datapolis.errors import ConfigError, UserError
from datapolis.ingest import cli as ingest_cli
from datapolis.orgs import cli as orgs_cli
from datapolis.portal import cli as portal_cli
from datapolis.quality import cli as quality_cli
from datapolis.quality import hook as quality_hook
from datapolis.quality.issues import cli as issues_cli
from datapolis.registry.db import Registry
from datapolis.security.audit import cli as audit_cli
from datapolis.security.fields import cli as fields_cli
from datapolis.security.fields.sealer import install as install_field_sealer
from datapolis.security.grading import cli as grading_cli
from datapolis.sharing.applications import cli as applications_cli
from datapolis.sharing.gateway import cli as gateway_cli
from datapolis.sharing.metering import cli as metering_cli
from datapolis.sharing.monitoring import cli as monitoring_cli
from datapolis.standardise import cli as std_cli
from datapolis.standardise import hook as std_hook

app = typer.Typer(
    name="datapolis",
    help="Datapolis: the integrated public-data platform (一体化大数据平台).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The registry database: migrations and status.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(baselib_cli.app, name="baselib")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(demo_cli.app, name="demo")
app.add_typer(ingest_cli.app, name="source")
app.add_typer(ingest_cli.sync_app, name="sync")
app.add_typer(orgs_cli.orgs, name="orgs")
app.add_typer(orgs_cli.users, name="users")
app.add_typer(orgs_cli.apps, name="apps")
app.add_typer(portal_cli.app, name="portal")
issues_cli.register(quality_cli.app)
app.add_typer(quality_cli.app, name="quality")
app.add_typer(std_cli.app, name="std")
# One `security` group; each security slice adds its verbs to it.
security_app = typer.Typer(help="Security: classification and grading, field encryption "
                           "(国产密码).", no_args_is_help=True)
security_app.add_typer(fields_cli.app)
security_app.add_typer(grading_cli.app)
app.add_typer(security_app, name="security")
# One `sharing` group; each sharing slice adds its verbs to it.
sharing_app = typer.Typer(help="Sharing and exchange (共享交换): applications, grants, "
                          "interfaces, metering and monitoring.", no_args_is_help=True)
metering_cli.register(sharing_app)
monitoring_cli.register(sharing_app)
gateway_cli.register(sharing_app)
applications_cli.register(sharing_app)
app.add_typer(sharing_app, name="sharing")

# Tables the highway lands (`sync run`, `demo land`) become draft catalog entries.
autoregister.install()
# ... and rebuild the std tables that read them.
std_hook.install()
# Landed tables that have quality rules are checked again.
quality_hook.install()
# Protected columns land encrypted (`datapolis security protect`).
install_field_sealer()

console = Console()
err_console = Console(stderr=True)


@app.command()
def version() -> None:
    """Print the Datapolis version."""
    console.print(__version__)


@app.command("settings")
def show_settings() -> None:
    """List every setting with its current value and help text."""
    settings = get_settings()
    table = Table("environment variable", "value", "help", title="Datapolis settings")
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = repr(value)
        if name == "secret_key":
            shown = "(built-in dev key)" if value == DEV_SECRET_KEY else "•••• (set)"
        elif name == "database_url" and value:
            shown = make_url(value).render_as_string(hide_password=True)
        table.add_row(ENV_PREFIX + name.upper(), shown, field.description or "")
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the registry tables to the latest schema."""
    from datapolis.registry import migrate
    from datapolis.registry.db import open_registry

    settings = get_settings()
    registry = open_registry(settings.registry_url)
    try:
        before = migrate.current_revision(registry)
        migrate.upgrade(registry, revision)
        after = migrate.current_revision(registry)
    finally:
        registry.close()
    if before == after:
        console.print(f"registry already at [bold]{after}[/]")
    else:
        console.print(f"registry migrated {before or '(empty)'} → [bold]{after}[/]")


@db_app.command("current")
def db_current() -> None:
    """Show the registry's migration revision and whether it is the latest."""
    from datapolis.registry import migrate
    from datapolis.registry.db import open_registry

    registry = open_registry(get_settings().registry_url, create=False)
    try:
        current, head = migrate.current_revision(registry), migrate.head_revision()
    finally:
        registry.close()
    state = "up to date" if current == head else f"behind (latest is {head})"
    console.print(f"registry at {current or '(empty)'}: {state}")


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use; stop the other server or pass "
                    f"--port (or set {ENV_PREFIX}PORT)"
                ) from None
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: settings)")] = None,
) -> None:
    """Serve the web UI and API (and own the warehouse file while running)."""
    import uvicorn

    from datapolis.registry import migrate
    from datapolis.registry.db import open_registry
    from datapolis.web.app import create_app

    settings = get_settings()
    settings.check_secure()
    host, port = host or settings.host, port or settings.port
    ensure_port_free(host, port)
    registry = open_registry(settings.registry_url, create=False)
    current, head = migrate.current_revision(registry), migrate.head_revision()
    if current != head:
        registry.close()
        raise ConfigError(
            f"registry is at {current or '(empty)'}, latest is {head}: run `datapolis db upgrade`"
        )
    web_app = create_app(settings, registry)
    _print_demo_logins(settings, registry)
    console.print(f"Datapolis {__version__} serving on [bold]http://{host}:{port}[/]")
    uvicorn.run(web_app, host=host, port=port, log_level="info", proxy_headers=False)


def _print_demo_logins(settings: Settings, registry: Registry) -> None:
    """In dev mode, show the demo users that still exist, are active and keep their password."""
    if settings.env != "dev":
        return
    from sqlalchemy import select

    from datapolis.demo.city import demo_logins
    from datapolis.orgs.models import User
    from datapolis.orgs.passwords import verify_password

    logins = {login.username: login for login in demo_logins()}
    table = Table("username", "password", "role", "organisation", title="Demo logins")
    with registry.session() as session:
        users = session.scalars(select(User).where(User.username.in_(logins), User.is_active))
        still_demo = {
            u.username
            for u in users
            if verify_password(u.password_hash, logins[u.username].password)
        }
    for login in logins.values():
        if login.username in still_demo:
            table.add_row(login.username, login.password, login.role.value, login.org_name)
    if table.row_count:
        console.print(table)


def main() -> None:
    try:
        app()
    except UserError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
