"""Suggesting the data element an information item maps to, and confirming it.

Signals, each a score in 0..1, combined as a noisy-or (independent evidence adds up):
the item's name equals the element's name or a synonym (after normalisation), its pinyin or
pinyin initials equal theirs (department columns are often named `gmsfhm`, `xb`), it contains
the element's name, a person confirmed the same name elsewhere, and sample values follow the
element's value pattern or lie in its code table.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.models import CodeValue, DataElement, InfoItem
from datapolis.catalog.patterns import PATTERNS, share_matching

NAME_EQUAL = 0.95
SYNONYM_EQUAL = 0.9
PINYIN_EQUAL = 0.85
INITIALS_EQUAL = 0.75
SOUNDS_ALIKE = 0.6
CONTAINS_BASE, CONTAINS_SPAN = 0.45, 0.3
CONFIRMED = 0.8
CODE_TABLE = 0.75
MIN_SHARE = 0.6  # of sample values before a value signal counts at all

_BRACKETED = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no bracketed remarks, spaces or punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NOT_WORD.sub("", _BRACKETED.sub("", text))


def _has_han(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def pinyin_forms(text: str) -> tuple[str, str]:
    """Full pinyin without tones and the initials: 性别 -> ("xingbie", "xb")."""
    syllables = lazy_pinyin(text, errors="ignore")
    return "".join(syllables), "".join(s[0] for s in syllables if s)


@dataclass(frozen=True)
class Reason:
    kind: str  # name | synonym | pinyin | initials | sounds_alike | contains | confirmed |
    #            pattern | code_table
    detail: str
    score: float


@dataclass
class Suggestion:
    element: DataElement
    reasons: list[Reason] = field(default_factory=list)

    @property
    def score(self) -> float:
        missing = 1.0
        for reason in self.reasons:
            missing *= 1.0 - reason.score
        return round(1.0 - missing, 3)


def _name_reasons(element: DataElement, names: Sequence[str]) -> list[Reason]:
    reasons: list[Reason] = []
    own = normalise(element.name)
    synonyms = {normalise(s): s for s in element.synonyms if normalise(s)}
    for name in names:
        if name == own:
            reasons.append(Reason("name", element.name, NAME_EQUAL))
        elif name in synonyms:
            reasons.append(Reason("synonym", synonyms[name], SYNONYM_EQUAL))
    if reasons:
        return reasons[:1]
    for name in names:
        for word in [own, *synonyms]:
            if not _has_han(word):
                continue
            full, initials = pinyin_forms(word)
            if name.isascii():
                if name == full:
                    return [Reason("pinyin", f"{word} = {full}", PINYIN_EQUAL)]
                if len(name) >= 2 and name == initials:
                    return [Reason("initials", f"{word} = {initials}", INITIALS_EQUAL)]
            elif _has_han(name) and pinyin_forms(name)[0] == full:
                return [Reason("sounds_alike", f"{word} = {full}", SOUNDS_ALIKE)]
    best: Reason | None = None
    for name in names:
        for word in [own, *synonyms]:
            if len(word) >= 2 and word in name and word != name:
                score = CONTAINS_BASE + CONTAINS_SPAN * len(word) / len(name)
                if best is None or score > best.score:
                    best = Reason("contains", word, round(score, 3))
    return [best] if best else []


def _value_reasons(
    element: DataElement, samples: Sequence[str], code_sets: dict[int, tuple[set[str], set[str]]]
) -> list[Reason]:
    reasons: list[Reason] = []
    pattern = PATTERNS.get(element.value_pattern or "")
    if pattern is not None:
        share = share_matching(pattern, samples)
        if share >= MIN_SHARE:
            reasons.append(Reason("pattern", f"{pattern.name} {share:.0%}",
                                  round(pattern.strength * share, 3)))
    if element.code_table_id is not None and element.code_table_id in code_sets:
        codes, names = code_sets[element.code_table_id]
        distinct = {value.strip() for value in samples if value and value.strip()}
        if distinct:
            share = max(len(distinct & codes), len(distinct & names)) / len(distinct)
            if share >= MIN_SHARE:
                table = element.code_table
                label = table.standard or table.code if table is not None else ""
                reasons.append(Reason("code_table", f"{label} {share:.0%}",
                                      round(CODE_TABLE * share, 3)))
    return reasons


def _code_sets(session: Session, table_ids: Iterable[int]) -> dict[int, tuple[set[str], set[str]]]:
    sets: dict[int, tuple[set[str], set[str]]] = {}
    rows = session.execute(
        select(CodeValue.table_id, CodeValue.code, CodeValue.name, CodeValue.note)
        .where(CodeValue.table_id.in_(list(table_ids)))
    )
    for table_id, code, name, note in rows:
        codes, names = sets.setdefault(table_id, (set(), set()))
        codes.add(code)
        names.add(name)
        if note and len(note) <= 4 and _has_han(note):
            names.add(note)  # short forms such as 男 / 女 kept in the note
    return sets


def _confirmed(session: Session, names: Sequence[str]) -> Counter[int]:
    """How often people confirmed each element for an item of one of these names."""
    rows = session.execute(
        select(InfoItem.name, InfoItem.element_id, func.count())
        .where(InfoItem.element_id.is_not(None), InfoItem.mapped_by.is_not(None))
        .group_by(InfoItem.name, InfoItem.element_id)
    )
    wanted = set(names)
    counts: Counter[int] = Counter()
    for name, element_id, count in rows:
        if element_id is not None and normalise(name) in wanted:
            counts[element_id] += count
    return counts


def suggest_elements(
    session: Session,
    *,
    name: str,
    column_name: str | None = None,
    samples: Sequence[str] = (),
    limit: int = 5,
) -> list[Suggestion]:
    """Data elements an item could map to, best first, each with its score and reasons."""
    names = [n for n in dict.fromkeys([normalise(name), normalise(column_name or "")]) if n]
    elements = list(session.scalars(
        select(DataElement).options(selectinload(DataElement.code_table))
    ))
    code_sets: dict[int, tuple[set[str], set[str]]] = {}
    if samples:
        code_sets = _code_sets(session, {e.code_table_id for e in elements if e.code_table_id})
    confirmed = _confirmed(session, names) if names else Counter()
    suggestions = []
    for element in elements:
        suggestion = Suggestion(element, _name_reasons(element, names))
        if confirmed[element.id]:
            suggestion.reasons.append(
                Reason("confirmed", str(confirmed[element.id]), CONFIRMED)
            )
        suggestion.reasons.extend(_value_reasons(element, samples, code_sets))
        if suggestion.reasons:
            suggestions.append(suggestion)
    suggestions.sort(key=lambda s: (-s.score, s.element.code))
    return suggestions[:limit]

