"""The one error the gateway raises: a refusal with its HTTP status and shared error code."""

from __future__ import annotations


class Refused(Exception):
    """A call refused; `code` is one of the shared codes (docs/sharing.md, error codes)."""

    def __init__(self, status: int, code: str, message: str, *,
                 recorded: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        # What the call record says, when it must say more than the caller may learn.
        self.recorded = recorded or code
