"""`suggest`: combine name evidence and sample values into one kind and grade per column."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from datapolis.security.classify.registry import DETECTORS, Detector, Grade
from datapolis.security.classify.validators import normalise

NONE = "none"
# Below this many non-blank values the values cannot outvote the name.
_ENOUGH_VALUES = 5
_THRESHOLD = 0.5


@dataclass(frozen=True)
class Suggestion:
    kind: str  # a detector's kind, or "none"
    grade: Grade
    confidence: float  # 0..1
    reasons: tuple[str, ...] = field(default=())


def _name_evidence(detector: Detector, column_name: str, comment: str) -> tuple[float, str]:
    comment = re.sub(r"[（(].*?[)）]", "", comment)  # 性别（GB/T 2261.1：1男 2女）: the gloss
    text = f"{column_name} {comment}"
    if any(word in text for word in detector.vetoes):
        return 0.0, ""
    parts = [part for part in re.split(r"[_\W]+", column_name.lower()) if part]
    best, why = 0.0, ""
    for signal in detector.signals:
        if signal.weight <= best:
            continue
        word = next((w for w in signal.words if w in text), None)
        token = next((t for t in signal.tokens for p in parts
                      if p == t or (len(t) >= 3 and p.endswith(t))), None)
        if word or token:
            best, why = signal.weight, f"name/comment mentions {word or token!r}"
    return best, why


def _score(detector: Detector, name: float, values: list[str]) -> tuple[float, list[str]]:
    reasons: list[str] = []
    if len(values) < _ENOUGH_VALUES:
        passing = sum(1 for value in values if detector.validates(value))
        if values and passing < len(values):
            return 0.0, reasons
        if values:  # a few values agree: enough with any name signal, never without one
            reasons.append(f"all {len(values)} sample values are valid {detector.name_en}s")
            return max(0.7 * name, 0.4 + 0.2 * name + 0.02 * len(values)), reasons
        return 0.7 * name, reasons  # the name alone: 0.7 for a strong signal, below 0.5 weak
    share = sum(1 for value in values if detector.validates(value)) / len(values)
    reasons.append(f"{share:.0%} of {len(values)} sample values are valid {detector.name_en}s")
    if detector.diverse and len(set(values)) < 0.3 * len(values):
        reasons.append("but they repeat like a code list")
        return 0.0, reasons
    if share >= detector.min_share:
        return min(1.0, 0.55 + 0.35 * share + 0.1 * name), reasons
    if name > 0 and share >= 0.3:  # a dirty column the name vouches for
        return 0.3 + 0.3 * share + 0.2 * name, reasons
    return 0.0, reasons


def suggest(column_name: str, comment: str | None,
            sample_values: Iterable[object]) -> Suggestion:
    """The most likely kind of a column, its default grade, a confidence and the reasons.

    `sample_values` are any values of the column (None and blanks are skipped; the rest are
    compared as text after full-width → half-width). Returns kind "none", grade L1 when no
    detector reaches 0.5.
    """
    values = [normalise(str(value)) for value in sample_values
              if value is not None and str(value).strip()]
    values = [value for value in values if value]
    best: tuple[float, Detector, list[str]] | None = None
    for detector in DETECTORS.values():
        name, why = _name_evidence(detector, column_name, comment or "")
        confidence, reasons = _score(detector, name, values)
        if why:
            reasons.insert(0, why)
        if confidence >= _THRESHOLD and (best is None or confidence > best[0]):
            best = (confidence, detector, reasons)
    if best is None:
        return Suggestion(NONE, "L1", 1.0 if values else 0.5,
                          (f"no detector fits {len(values)} sample values and the name",))
    confidence, detector, reasons = best
    return Suggestion(detector.kind, detector.grade, round(confidence, 3), tuple(reasons))
