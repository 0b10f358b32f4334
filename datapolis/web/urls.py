"""Where we may send a browser back to: only paths on this site, never another host."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site (like `/orgs?page=2`), else `default`.

    Browsers read `//host`, `/\\host` and `/<tab>/host` as another host, so those are refused
    along with anything that has a scheme or a host of its own.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
