"""Suggested field kinds and grades (分类分级建议) from a column's name, comment and sample values.

`suggest(column_name, comment, sample_values)` returns the kind a column most likely holds
(resident ID, mobile number, name, address …) with its default grade, a confidence and the
reasons. Detectors are a registry of small plugins; the built-ins register themselves through
`register` the same way an outside one would. A person confirms or changes the suggestion.
"""

from datapolis.security.classify import builtin as _builtin  # noqa: F401  (registers built-ins)
from datapolis.security.classify.registry import DETECTORS, Detector, Grade, Signal, register
from datapolis.security.classify.suggest import NONE, Suggestion, suggest

__all__ = ["DETECTORS", "NONE", "Detector", "Grade", "Signal", "Suggestion", "register", "suggest"]
