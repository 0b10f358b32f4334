"""Canonical JSON for audit events: the subset of RFC 8785 (JCS) that needs no float formatting.

Keys sorted, no insignificant whitespace, UTF-8, strings escaped as JSON requires and nothing
more. Within this subset Python's `json.dumps` produces exactly the JCS bytes: keys are ASCII
(so code-point order equals JCS's UTF-16 order), numbers are integers within ±2^53 (so they
print the same as ECMAScript would), and floats are refused rather than formatted.
"""

from __future__ import annotations

import json
from typing import Any

from datapolis.errors import UserError

MAX_SAFE_INTEGER = 2**53 - 1


class NotCanonical(UserError):
    """A value cannot be written as canonical audit JSON."""


def check_value(value: Any, where: str = "details") -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise NotCanonical(f"{where}: integer {value} is outside ±2^53; give it as a string")
        return
    if isinstance(value, float):
        raise NotCanonical(f"{where}: floats are not allowed in audit events; give a string")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise NotCanonical(f"{where}: keys must be ASCII strings, not {key!r}")
            check_value(item, f"{where}.{key}")
        return
    raise NotCanonical(f"{where}: {type(value).__name__} is not a JSON value")


def dumps(value: Any) -> bytes:
    """Canonical bytes of a value already checked with `check_value`."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def is_canonical(text: bytes) -> bool:
    try:
        value = json.loads(text)
        check_value(value)
    except (ValueError, NotCanonical):
        return False
    return dumps(value) == text
