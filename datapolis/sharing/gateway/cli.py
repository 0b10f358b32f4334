"""`datapolis sharing credentials`: issue an app's signing secret, show how an app may sign."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from datapolis.config import get_settings
from datapolis.orgs import service as orgs
from datapolis.orgs.cli import err_console, registry_session
from datapolis.security.crypto import Keyring
from datapolis.sharing.gateway import credentials
from datapolis.sharing.gateway.client import ALGORITHMS

console = Console(highlight=False, soft_wrap=True)
app = typer.Typer(name="credentials", no_args_is_help=True,
                  help="Apps' signing secrets for the sharing interfaces (HMAC-SM3 / HMAC-SHA256).")


@app.command("issue")
def issue(
    app_key: str,
    algorithm: Annotated[str, typer.Option(
        help=f"Signature algorithm: {' or '.join(ALGORITHMS)}.")] = "hmac-sm3",
) -> None:
    """Give the app a new secret that signs calls (and works as its OAuth2 client secret).

    The old secret and the app's tokens stop working. The secret is shown this once.
    """
    keyring = Keyring.from_secret(get_settings().secret_key)
    with registry_session() as session:
        issued = credentials.issue(session, keyring, app=orgs.get_app(session, app_key),
                                   algorithm=algorithm)
    console.print(f"app_key: {issued.app_key}")
    console.print(f"algorithm: {ALGORITHMS[issued.algorithm]}")
    console.print(f"app_secret: {issued.secret}")
    err_console.print("[yellow]store the secret now: it is not shown again[/]")


@app.command("show")
def show(app_key: str) -> None:
    """How the app may authenticate to the sharing interfaces (never the secret)."""
    with registry_session() as session:
        state = credentials.app_state(session, orgs.get_app(session, app_key).app_key)
    assert state is not None
    signing = ALGORITHMS[state.algorithm] if state.algorithm else "none (issue a secret)"
    console.print(f"app_key: {app_key}")
    console.print(f"revoked: {'yes' if state.revoked else 'no'}")
    console.print(f"signature: {signing}")
    console.print("oauth2: client credentials at /share/oauth/token")


def register(parent: typer.Typer) -> None:
    parent.add_typer(app)
