"""The detector registry: one plugin per kind of sensitive field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Grade = Literal["L1", "L2", "L3", "L4"]


@dataclass(frozen=True)
class Signal:
    """Evidence in a column's name or comment.

    `words` are looked for inside the comment and the name (CSV files have Chinese headers);
    `tokens` are pinyin abbreviations compared with the name's `_`-separated parts: equal, or
    the part's suffix when the token has three letters or more (`wgy_lxdh` has `lxdh`;
    two-letter tokens such as `dz` are too ambiguous to match inside a longer part).
    """

    weight: float
    words: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class Detector:
    kind: str
    name_zh: str
    name_en: str
    grade: Grade
    signals: tuple[Signal, ...]
    validates: Callable[[str], bool]
    # Share of non-blank sample values that must validate for the values alone to decide.
    min_share: float = 0.8
    # Words in the comment that rule the name evidence out (地址编码 is not an address).
    vetoes: tuple[str, ...] = ()
    # Values are expected to be mostly distinct (names): a column of a few repeated values is
    # a code list even when each value validates.
    diverse: bool = False


DETECTORS: dict[str, Detector] = {}


def register(detector: Detector) -> Detector:
    DETECTORS[detector.kind] = detector
    return detector
