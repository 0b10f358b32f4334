"""The plugin registry of normalisation rules (目录梳理规则).

A rule is a code (`R01`), an English and a Chinese title, a GB/T 21063 metadata category, a
severity and a check over one entry in a preloaded context. The built-in rules register here
exactly as an outside plugin would: by calling `register` (or decorating with `rule`).
"""

from __future__ import annotations

import enum
import importlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datapolis.errors import UserError
from datapolis.web.i18n import N_

if TYPE_CHECKING:
    from datapolis.catalog.models import CatalogEntry
    from datapolis.catalog.rules.context import RuleContext


class Severity(enum.StrEnum):
    BLOCKING = "blocking"  # the entry cannot be published while it fails
    WARNING = "warning"


class Category(enum.StrEnum):
    """The groups of core metadata in GB/T 21063.3 that a rule looks at."""

    CLASSIFICATION = "classification"  # 资源分类, 资源代码
    DESCRIPTION = "description"  # 资源名称, 资源提供方, 资源摘要, 资源格式, 标签
    ITEMS = "items"  # 信息项
    SHARING = "sharing"  # 共享属性
    OPENING = "opening"  # 开放属性
    TIMELINESS = "timeliness"  # 更新周期, 发布日期, 数据量
    RELATIONS = "relations"  # 关联资源, 重复


SEVERITY_LABELS: dict[Severity, str] = {
    Severity.BLOCKING: N_("Blocking"),
    Severity.WARNING: N_("Warning"),
}
CATEGORY_LABELS: dict[Category, str] = {
    Category.CLASSIFICATION: N_("Classification and code"),
    Category.DESCRIPTION: N_("Description"),
    Category.ITEMS: N_("Information items"),
    Category.SHARING: N_("Sharing"),
    Category.OPENING: N_("Opening"),
    Category.TIMELINESS: N_("Update and publication"),
    Category.RELATIONS: N_("Relations and duplicates"),
}


@dataclass(frozen=True)
class Finding:
    """One thing a rule found wrong: an English msgid with `%(name)s` placeholders."""

    message: str
    params: dict[str, str | int] = field(default_factory=dict)

    def text(self, translate: Callable[[str], str] = str) -> str:
        template = translate(self.message)
        return template % self.params if self.params else template


Check = Callable[["CatalogEntry", "RuleContext"], Iterable[Finding]]
Applies = Callable[["CatalogEntry", "RuleContext"], bool]
RULE_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,7}\d{2}$")


@dataclass(frozen=True)
class Rule:
    code: str
    title: str  # English
    title_zh: str
    category: Category
    severity: Severity
    check: Check
    # False: the rule says nothing about this entry (neither pass nor fail).
    applies: Applies | None = None
    description: str = ""  # English, for the docs and `rules list`

    def title_for(self, locale: str) -> str:
        return self.title_zh if locale.startswith("zh") else self.title


_RULES: dict[str, Rule] = {}
_lock = threading.Lock()
_builtins_loaded = False
BUILTIN_MODULES = (
    "description", "classification", "sharing", "opening", "items", "timeliness", "relations",
)


def register(rule: Rule, *, replace: bool = False) -> Rule:
    """Make a rule available under its code; a second rule with the same code is refused."""
    if not RULE_CODE.match(rule.code):
        raise UserError(f"rule code {rule.code!r} must read like R01 (letters, then 2+ digits)")
    with _lock:
        if rule.code in _RULES and not replace and _RULES[rule.code] is not rule:
            raise UserError(f"normalisation rule {rule.code} is already registered")
        _RULES[rule.code] = rule
    return rule


def unregister(code: str) -> None:
    with _lock:
        _RULES.pop(code, None)


def rule(
    code: str, title: str, title_zh: str, *, category: Category, severity: Severity,
    applies: Applies | None = None,
) -> Callable[[Check], Check]:
    """Register the decorated check as a rule; its docstring is the rule's description."""

    def decorate(check: Check) -> Check:
        description = " ".join((check.__doc__ or "").split())
        register(Rule(code, title, title_zh, category, severity, check, applies, description))
        return check

    return decorate


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for module in BUILTIN_MODULES:
        importlib.import_module(f"datapolis.catalog.rules.builtin.{module}")
    _builtins_loaded = True


def _sort_key(code: str) -> tuple[str, int]:
    digits = re.search(r"\d+$", code)
    return (code[: digits.start()] if digits else code, int(digits[0]) if digits else 0)


def list_rules() -> list[Rule]:
    _load_builtins()
    return [_RULES[code] for code in sorted(_RULES, key=_sort_key)]


def get_rule(code: str) -> Rule:
    _load_builtins()
    try:
        return _RULES[code.upper()]
    except KeyError:
        raise UserError(f"unknown normalisation rule {code!r}") from None
