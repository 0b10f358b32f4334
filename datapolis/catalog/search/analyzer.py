"""Text analysis: normalisation, jieba word segmentation, Latin and digit tokens, bigrams.

Entries are indexed with the search-mode cut (long words and the shorter words inside them),
queries with the precise cut (one reading of the sentence). A query word then matches an entry
that contains it as a word, whichever longer word it sits in there. Where the segmenter reads a
query word differently from the entry's text, the character bigrams of the entry's Chinese runs
still find it (see index.py).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from importlib import metadata
from typing import Any

from datapolis.catalog.search.terms import GOVERNMENT_TERMS

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK}]+")
# A token is a run of Chinese characters or of lower-case Latin letters and digits;
# everything else (punctuation, spaces, `/` in GB/T, `_` in column names) separates tokens.
PIECE = re.compile(f"[{_CJK}]+|[a-z0-9]+")
IS_CJK = re.compile(f"[{_CJK}]")

# Function words that carry no meaning in a catalog query; dropped on both sides.
STOPWORDS = frozenset({
    "的", "和", "与", "及", "或", "等", "之", "在", "了", "是", "对", "由", "为", "以", "于",
    "其", "并", "按", "各", "该",
})

# A term frequency high enough that the precise cut keeps our terms whole.
_TERM_FREQUENCY = 50_000

_lock = threading.Lock()
_tokenizer: Any = None


def _version() -> str:
    words = hashlib.sha256("\n".join(GOVERNMENT_TERMS).encode()).hexdigest()[:12]
    return f"jieba-fast-dat {metadata.version('jieba-fast-dat')}; terms {words}; analyzer 1"


# Persisted with every entry's tokens: a different value re-segments the entry on next load.
ANALYZER_VERSION = _version()


def tokenizer() -> Any:
    """The shared segmenter with our dictionary, built once per process (about a second)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba_fast_dat

            jieba_fast_dat.setLogLevel(logging.WARNING)
            built = jieba_fast_dat.Tokenizer()
            built.initialize()
            for word in GOVERNMENT_TERMS:
                built.add_word(word, _TERM_FREQUENCY)
            _tokenizer = built
        return _tokenizer


def normalize(text: str) -> str:
    """Full-width forms to half-width (ＧＢ／Ｔ → gb/t), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _pieces(words: Iterable[str]) -> Iterator[str]:
    for word in words:
        for piece in PIECE.findall(word):
            if piece not in STOPWORDS:
                yield piece


def index_tokens(text: str) -> list[str]:
    """Every word of `text` for the index: search-mode cut, repeats kept (they are the tf)."""
    text = normalize(text)
    if not text.strip():
        return []
    return list(_pieces(tokenizer().lcut_for_search(text)))


def query_words(text: str) -> list[str]:
    """The words a query requires, precise cut, without repeats, in order."""
    text = normalize(text)
    if not text.strip():
        return []
    return list(dict.fromkeys(_pieces(tokenizer().lcut(text))))


def cjk_runs(text: str) -> list[str]:
    """The runs of Chinese characters of `text`: what the bigram fallback is built from."""
    return CJK_RUN.findall(normalize(text))


def grams_of_runs(runs: Iterable[str]) -> set[str]:
    """Character bigrams of each run; a one-character run stands for itself."""
    grams: set[str] = set()
    for run in runs:
        if len(run) == 1:
            grams.add(run)
        else:
            grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def grams_of_word(word: str) -> list[str]:
    """The bigrams that must all occur for `word` to count as found by the fallback."""
    if not IS_CJK.match(word) or len(word) < 2:
        return []
    return [word[i:i + 2] for i in range(len(word) - 1)]


def is_cjk(word: str) -> bool:
    return IS_CJK.match(word) is not None
