"""The in-memory inverted index: postings per field and word, bigram postings, facet columns.

Documents get an ordinal (their row in the dense numpy columns). Postings are append-only
`array`s of ordinals: replacing a document marks its old ordinal dead and appends a new one;
dead ordinals are squeezed out once they are a quarter of the index. A query turns each
word's postings into dense per-document vectors over all ordinals (100,000 floats are a few
microseconds of numpy), so AND, the facet filters, the facet counts and BM25 are array
operations, not Python loops over documents.

Ranking is BM25F: a word's frequency in each field is length-normalised and weighted
(name > tags > items > summary) before the saturation. A word counts as found where it is a
word of the document, or, as a fallback with a lower score, where all its character bigrams
occur in the document's Chinese text (the segmenter may have cut the document differently).
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from datapolis.catalog.search.analyzer import grams_of_runs, grams_of_word, is_cjk
from datapolis.catalog.search.documents import FIELDS, AnalyzedDocument
from datapolis.catalog.search.query import ParsedQuery
from datapolis.errors import UserError

K1 = 1.2
GRAM_WEIGHT = 0.3  # a bigram-only match scores like a weak summary match
MAX_WINDOW = 10_000  # deepest result a page may reach (offset + size)

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int32]


@dataclass(frozen=True)
class Hit:
    id: int
    score: float


@dataclass(frozen=True)
class Hits:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]  # facet -> value -> count, most frequent first
    words: tuple[str, ...]  # the query words, for highlighting


class _Postings:
    __slots__ = ("counts", "ords")

    def __init__(self) -> None:
        self.ords = array("i")
        self.counts = array("H")


def _as_ints(buffer: array[int]) -> Ints:
    # A copy: a live view would keep the array from growing (BufferError on append).
    return np.frombuffer(buffer, dtype=np.int32).copy()


class SearchIndex:
    """Documents with facets; `search` ANDs the query words and counts the facets."""

    def __init__(self, facets: Sequence[str]) -> None:
        self.facet_names = tuple(facets)
        self._lock = threading.RLock()
        self._reset(capacity=1024)

    def _reset(self, capacity: int) -> None:
        self._size = 0  # ordinals handed out
        self._live = 0
        self._ids = np.zeros(capacity, np.int64)
        self._alive = np.zeros(capacity, np.bool_)
        self._ord_of: dict[int, int] = {}
        self._lengths = {name: np.zeros(capacity, np.float32) for name in FIELDS}
        self._length_sums = dict.fromkeys(FIELDS, 0.0)
        self._postings: dict[str, dict[str, _Postings]] = {name: {} for name in FIELDS}
        self._grams: dict[str, array[int]] = {}
        self._grams_by_char: dict[str, set[str]] = {}
        self._codes = {name: np.zeros(capacity, np.int32) for name in self.facet_names}
        self._values: dict[str, list[str]] = {name: [""] for name in self.facet_names}
        self._value_codes: dict[str, dict[str, int]] = {name: {"": 0} for name in self.facet_names}

    def __len__(self) -> int:
        return self._live

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._ord_of

    # --- writing ---------------------------------------------------------------------------

    def add(self, document: AnalyzedDocument) -> None:
        """Index `document`, replacing the one with the same id."""
        with self._lock:
            self._drop(document.id)
            if self._size == len(self._ids):
                self._grow()
            ordinal = self._size
            self._size += 1
            self._live += 1
            self._ids[ordinal] = document.id
            self._alive[ordinal] = True
            self._ord_of[document.id] = ordinal
            for name, tokens in document.tokens.items():
                self._lengths[name][ordinal] = len(tokens)
                self._length_sums[name] += len(tokens)
                postings = self._postings[name]
                for word, count in Counter(tokens).items():
                    entry = postings.get(word)
                    if entry is None:
                        entry = postings[word] = _Postings()
                    entry.ords.append(ordinal)
                    entry.counts.append(min(count, 65_535))
            for gram in grams_of_runs(document.runs):
                ords = self._grams.get(gram)
                if ords is None:
                    ords = self._grams[gram] = array("i")
                    for char in gram:
                        self._grams_by_char.setdefault(char, set()).add(gram)
                ords.append(ordinal)
            for name in self.facet_names:
                value = document.facets.get(name, "")
                code = self._value_codes[name].get(value)
                if code is None:
                    code = self._value_codes[name][value] = len(self._values[name])
                    self._values[name].append(value)
                self._codes[name][ordinal] = code

    def remove(self, doc_id: int) -> None:
        with self._lock:
            self._drop(doc_id)

    def _drop(self, doc_id: int) -> None:
        ordinal = self._ord_of.pop(doc_id, None)
        if ordinal is None:
            return
        self._alive[ordinal] = False
        self._live -= 1
        for name in FIELDS:
            self._length_sums[name] -= float(self._lengths[name][ordinal])
        dead = self._size - self._live
        if dead > 1_000 and dead * 4 > self._size:
            self._compact()

    def _grow(self) -> None:
        extra = max(1024, len(self._ids))
        self._ids = np.concatenate([self._ids, np.zeros(extra, np.int64)])
        self._alive = np.concatenate([self._alive, np.zeros(extra, np.bool_)])
        for name in FIELDS:
            self._lengths[name] = np.concatenate(
                [self._lengths[name], np.zeros(extra, np.float32)])
        for name in self.facet_names:
            self._codes[name] = np.concatenate([self._codes[name], np.zeros(extra, np.int32)])

    def _compact(self) -> None:
        """Renumber the live documents 0..n-1 and drop dead ordinals from every posting list."""
        size = self._size
        alive = self._alive[:size]
        renumber = np.cumsum(alive, dtype=np.int32) - 1
        keep_rows = np.flatnonzero(alive)
        capacity = max(1024, len(keep_rows) * 2)

        def squeeze(column: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
            out = np.zeros(capacity, column.dtype)
            out[:len(keep_rows)] = column[keep_rows]
            return out

        self._ids = squeeze(self._ids)  # type: ignore[assignment]
        self._alive = squeeze(self._alive)  # type: ignore[assignment]
        self._lengths = {k: squeeze(v) for k, v in self._lengths.items()}  # type: ignore[misc]
        self._codes = {k: squeeze(v) for k, v in self._codes.items()}  # type: ignore[misc]
        for postings in self._postings.values():
            for word in list(postings):
                entry = postings[word]
                ords = np.frombuffer(entry.ords, dtype=np.int32)
                keep = alive[ords]
                if not keep.any():
                    del postings[word]
                    continue
                counts = np.frombuffer(entry.counts, dtype=np.uint16)[keep]
                fresh = _Postings()
                fresh.ords.frombytes(renumber[ords[keep]].astype(np.int32).tobytes())
                fresh.counts.frombytes(counts.tobytes())
                del ords
                postings[word] = fresh
        for gram in list(self._grams):
            ords = np.frombuffer(self._grams[gram], dtype=np.int32)
            kept = ords[alive[ords]]
            if len(kept) == 0:
                del self._grams[gram]
                for char in gram:
                    self._grams_by_char[char].discard(gram)
                continue
            fresh_ords = array("i")
            fresh_ords.frombytes(renumber[kept].astype(np.int32).tobytes())
            del ords
            self._grams[gram] = fresh_ords
        self._ord_of = {int(doc_id): i for i, doc_id in enumerate(self._ids[:len(keep_rows)])}
        self._size = self._live = len(keep_rows)

    # --- reading ---------------------------------------------------------------------------

    def _word_frequencies(self, word: str, n: int) -> Floats:
        """BM25F pseudo-frequency of `word` per ordinal: weighted, length-normalised counts."""
        frequencies = np.zeros(n, np.float32)
        for name, spec in FIELDS.items():
            entry = self._postings[name].get(word)
            if entry is None:
                continue
            ords = _as_ints(entry.ords)
            counts = np.frombuffer(entry.counts, dtype=np.uint16).astype(np.float32)
            if spec.b and self._length_sums[name] > 0:
                average = self._length_sums[name] / max(self._live, 1)
                counts /= (1 - spec.b) + spec.b * self._lengths[name][ords] / average
            frequencies[ords] += spec.weight * counts
        return frequencies

    def _gram_mask(self, word: str, n: int) -> Bools | None:
        """Ordinals whose Chinese text holds every bigram of `word` (None: no fallback)."""
        if len(word) == 1 and is_cjk(word):
            mask = np.zeros(n, np.bool_)
            for gram in self._grams_by_char.get(word, ()):
                mask[_as_ints(self._grams[gram])] = True
            return mask
        grams = grams_of_word(word)
        if not grams:
            return None
        found: Bools | None = None
        for gram in dict.fromkeys(grams):
            ords = self._grams.get(gram)
            if ords is None:
                return np.zeros(n, np.bool_)
            mask = np.zeros(n, np.bool_)
            mask[_as_ints(ords)] = True
            found = mask if found is None else found & mask
        return found

    def _facet_mask(self, name: str, values: Collection[str], n: int) -> Bools:
        allowed = np.zeros(len(self._values[name]), np.bool_)
        for value in values:
            code = self._value_codes[name].get(value)
            if code is not None:
                allowed[code] = True
        mask: Bools = allowed[self._codes[name][:n]]
        return mask

    def _check_facets(self, names: Collection[str]) -> None:
        unknown = set(names) - set(self.facet_names)
        if unknown:
            raise UserError(
                f"unknown facet(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(self.facet_names)}"
            )

    def search(
        self,
        query: ParsedQuery,
        *,
        filters: Mapping[str, Collection[str]] | None = None,
        visible: Sequence[tuple[str, Collection[str]]] | None = None,
        offset: int = 0,
        limit: int = 20,
        facets: Sequence[str] = (),
    ) -> Hits:
        """Documents holding every query word, in `filters` and `visible`, best first.

        `filters`: facet -> accepted values (values of one facet OR, facets AND).
        `visible`: a document is visible if any (facet, values) pair accepts it (None: all).
        Facet counts are "what if I also ticked this": each facet is counted with every
        filter applied except its own.
        """
        filters = {name: values for name, values in (filters or {}).items() if values}
        self._check_facets([*filters, *facets, *(name for name, _ in visible or ())])
        if offset < 0 or limit < 1 or offset + limit > MAX_WINDOW:
            raise UserError(f"results can be paged up to the {MAX_WINDOW:,}th only")
        with self._lock:
            n = self._size
            base = self._alive[:n].copy()
            if visible is not None:
                seen = np.zeros(n, np.bool_)
                for name, values in visible:
                    seen |= self._facet_mask(name, values, n)
                base &= seen
            scores = np.zeros(n, np.float32)
            for word in query.words:
                frequencies = self._word_frequencies(word, n)
                as_word = frequencies > 0
                grams = self._gram_mask(word, n)
                found = as_word if grams is None else as_word | grams
                df = int(np.count_nonzero(found & self._alive[:n]))
                idf = math.log(1 + (self._live - df + 0.5) / (df + 0.5))
                scores += np.float32(idf) * frequencies * (K1 + 1) / (frequencies + K1)
                if grams is not None:
                    scores += np.float32(idf * GRAM_WEIGHT) * (grams & ~as_word)
                base &= found
            masks = {name: self._facet_mask(name, values, n) for name, values in filters.items()}
            counts = {name: self._count(name, base, masks, n) for name in facets}
            result = base
            for mask in masks.values():
                result = result & mask
            ordinals = np.flatnonzero(result)
            page = self._page(ordinals, scores, query.empty, offset, limit)
            hits = [Hit(int(self._ids[o]), float(scores[o])) for o in page]
            return Hits(len(ordinals), hits, counts, query.words)

    def _count(self, name: str, base: Bools, masks: Mapping[str, Bools], n: int) -> dict[str, int]:
        selected = base
        for other, mask in masks.items():
            if other != name:
                selected = selected & mask
        tally = np.bincount(self._codes[name][:n][selected], minlength=len(self._values[name]))
        pairs = [(self._values[name][code], int(count))
                 for code, count in enumerate(tally) if count and code]
        return dict(sorted(pairs, key=lambda pair: (-pair[1], pair[0])))

    def _page(
        self, ordinals: npt.NDArray[np.intp], scores: Floats, browse: bool, offset: int,
        limit: int,
    ) -> npt.NDArray[np.intp]:
        ids = self._ids[ordinals]
        if browse:  # no words: newest first
            order = np.argsort(-ids, kind="stable")
            return ordinals[order[offset:offset + limit]]
        wanted = offset + limit
        ranked = scores[ordinals]
        if wanted < len(ordinals):
            # Keep every document tied with the wanted-th score, so pages never overlap.
            threshold = np.partition(ranked, len(ranked) - wanted)[len(ranked) - wanted]
            keep = np.flatnonzero(ranked >= threshold)
            ordinals, ranked, ids = ordinals[keep], ranked[keep], ids[keep]
        order = np.lexsort((ids, -ranked))
        return ordinals[order[offset:offset + limit]]
