"""Turning driver failures into terminal or transient source errors, without the secrets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from datapolis.ingest.errors import SourceError, TerminalSourceError, TransientSourceError

# Phrases drivers use when the server is unreachable, busy or restarting: worth a retry.
TRANSIENT_MARKERS = (
    "connection refused", "timeout expired", "timed out", "could not connect",
    "no route to host", "network is unreachable", "server closed the connection",
    "the database system is starting up", "the database system is shutting down",
    "too many connections", "too many clients", "lost connection", "can't connect",
    "connection reset", "broken pipe", "temporarily unavailable", "server has gone away",
    "connection aborted",
)


def scrub(message: str, secrets: Mapping[str, str] | Iterable[str]) -> str:
    values = secrets.values() if isinstance(secrets, Mapping) else secrets
    for value in values:
        if value:
            message = message.replace(value, "••••")
    return message


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def classify(source: str, exc: BaseException, secrets: Mapping[str, str],
             *, transient: bool | None = None) -> SourceError:
    """A terminal or transient error naming the source; `transient` forces the class."""
    message = f"{source}: {scrub(first_line(exc), secrets)}"
    if transient is None:
        lowered = str(exc).lower()
        transient = isinstance(exc, TimeoutError | ConnectionError) or any(
            marker in lowered for marker in TRANSIENT_MARKERS)
    return TransientSourceError(message) if transient else TerminalSourceError(message)
