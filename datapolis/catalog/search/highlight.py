"""Marking the query words in a name or summary: HTML-escaped text with <mark> around hits."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

ELLIPSIS = "…"


def _pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)


def highlight(text: str, words: Sequence[str]) -> Markup:
    """`text` escaped, each occurrence of a word (longest first, no overlaps) in <mark>."""
    pattern = _pattern(words)
    if pattern is None:
        return escape(text)
    parts: list[str] = []
    position = 0
    for found in pattern.finditer(text):
        parts.append(str(escape(text[position:found.start()])))
        parts.append(f"<mark>{escape(found.group())}</mark>")
        position = found.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))  # noqa: S704 -- every piece was escaped above


def snippet(text: str, words: Sequence[str], width: int = 90) -> Markup:
    """Up to `width` characters of `text` around its first hit, highlighted."""
    if len(text) <= width:
        return highlight(text, words)
    pattern = _pattern(words)
    found = pattern.search(text) if pattern is not None else None
    start = 0 if found is None else max(0, found.start() - width // 4)
    start = min(start, len(text) - width)
    window = text[start:start + width]
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if start + width < len(text) else ""
    return Markup(prefix) + highlight(window, words) + Markup(suffix)  # noqa: S704
