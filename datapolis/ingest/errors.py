"""Errors of the data highway. Every failure is terminal (retrying cannot help: bad password,
missing table, incompatible schema change) or transient (connection refused, timeout, server
restarting), so the scheduler knows whether to retry with backoff."""

from __future__ import annotations

from datapolis.errors import UserError


class SourceError(UserError):
    """A source could not be read; the message names the source and what went wrong."""

    transient = False


class TransientSourceError(SourceError):
    """Worth retrying later: the source is unreachable, busy or timed out."""

    transient = True


class TerminalSourceError(SourceError):
    """Retrying will not help until someone changes something (credentials, table, schema)."""
