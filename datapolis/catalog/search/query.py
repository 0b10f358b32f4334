"""Parsing what a user typed into the words every hit must contain."""

from __future__ import annotations

from dataclasses import dataclass

from datapolis.catalog.search.analyzer import query_words
from datapolis.errors import UserError

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 24


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    words: tuple[str, ...]  # every one must match (AND); empty: browse everything

    @property
    def empty(self) -> bool:
        return not self.words


def parse_query(text: str | None) -> ParsedQuery:
    """Words of `text` (precise cut, lower case, no function words); refuses absurd input.

    Punctuation, quotes and operators are separators: `"户籍" OR 1=1; --` asks for 户籍, or,
    1 and 1. Nothing of the text ever reaches SQL.
    """
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise UserError(
            f"the search text has {len(text)} characters; at most {MAX_QUERY_CHARS} are allowed"
        )
    if "\x00" in text:
        raise UserError("the search text contains a NUL character")
    words = query_words(text)
    if len(words) > MAX_QUERY_WORDS:
        raise UserError(
            f"the search text has {len(words)} words; at most {MAX_QUERY_WORDS} are allowed"
        )
    return ParsedQuery(text, tuple(words))
