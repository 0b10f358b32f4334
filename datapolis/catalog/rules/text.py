"""Text checks the rules share: folding for comparisons and punctuation hygiene."""

from __future__ import annotations

import re
import unicodedata

_CJK = r"[\u3400-\u9fff]"
_HAS_CJK = re.compile(_CJK)
# Half-width punctuation touching a Chinese character, where Chinese text uses full-width.
_HALF_WIDTH = re.compile(rf"(?:{_CJK}[,;:?!()])|(?:[,;:?!()]{_CJK})|(?:{_CJK}\.(?!\d))")
_REPEATED = re.compile(r"([，。、；：？！,.;:?!])\1")
_SPACE = re.compile(r"[\s\u3000]")
_EDGE_PUNCTUATION = re.compile(r"^[，。、；：？！,.;:?!]|[，。、；：？！,.;:?!]$")
_PUNCTUATION = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Compatibility-fold (full-width to half-width), drop all white space, ignore case."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def bare(text: str) -> str:
    """`fold` without any punctuation: what remains to be read."""
    return _PUNCTUATION.sub("", fold(text))


def has_chinese(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def half_width_in_chinese(text: str) -> list[str]:
    """The half-width punctuation marks that sit against Chinese characters."""
    return list(dict.fromkeys(m[0] for m in _HALF_WIDTH.finditer(text)))


def repeated_punctuation(text: str) -> list[str]:
    return list(dict.fromkeys(m[0] for m in _REPEATED.finditer(text)))


def has_white_space(text: str) -> bool:
    return _SPACE.search(text) is not None


def punctuation_at_edges(text: str) -> bool:
    return _EDGE_PUNCTUATION.search(text) is not None
