"""Errors a user can act on.

A `UserError` is shown as one clear line (CLI: non-zero exit, no traceback; HTTP: a 4xx JSON
body). Anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Something the user asked for cannot be done; the message says what and where."""

    status_code = 400


class NotFound(UserError):
    status_code = 404


class Conflict(UserError):
    status_code = 409


class ConfigError(UserError):
    """A setting is unknown, malformed or insecure."""
