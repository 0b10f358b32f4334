"""What an audience may see of a table: each grade's default method per audience.

L1 may be opened; L2 and L3 leave the owning department only de-identified (and only under an
application, which the sharing slice checks before it asks here); L4 is never opened, and goes
to another department only as a keyed pseudonym, so records can still be joined without the
value being read. Core and important data (核心/重要) never leave: withheld for every audience.

Only a grade a person confirmed counts (`confirmed_grade`, see security/grading): an item
whose grade is merely suggested, typed into a form, or missing is withheld: the policy fails
closed. `datapolis.security.grading.service.graded_fields` gives an entry's items with their
confirmed grades.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from datapolis.security.deid.methods import DeidError
from datapolis.security.deid.plans import Plan, Rule
from datapolis.security.grades import is_general, parse_grade

Audience = Literal["department", "public"]
AUDIENCES: tuple[Audience, ...] = ("department", "public")
WITHHELD = "withheld"


@dataclass(frozen=True)
class Default:
    method: str  # a registered method, or WITHHELD: the column is not read at all
    params: Mapping[str, int | str] = field(default_factory=dict)


POLICY: dict[str, dict[Audience, Default]] = {
    "L1": {"department": Default("keep"), "public": Default("keep")},
    "L2": {"department": Default("keep"), "public": Default("mask", {"first": 1, "last": 1})},
    "L3": {"department": Default("mask", {"first": 1, "last": 1}),
           "public": Default("suppress")},
    "L4": {"department": Default("pseudonym"), "public": Default(WITHHELD)},
}


class Item(Protocol):
    """An information item with the grade a person confirmed (None: not confirmed)."""

    @property
    def column_name(self) -> str | None: ...

    @property
    def confirmed_grade(self) -> str | None: ...


class Entry(Protocol):
    @property
    def items(self) -> Iterable[Item]: ...


def default(grade: str | None, audience: str) -> Default:
    if audience not in AUDIENCES:
        raise DeidError(f"unknown audience {audience!r}; known: {', '.join(AUDIENCES)}")
    general = parse_grade(grade)
    if general is None or not is_general(general):  # none, unknown, important or core
        return Default(WITHHELD)
    return POLICY[general][audience]


def view_for(entry_or_items: Entry | Iterable[Item], audience: str,
             consumer_key: bytes | None = None) -> Plan:
    """The plan for what `audience` may see of a table, item by item.

    `consumer_key` is the release's or consumer's key; without one, columns whose default is
    a keyed method are withheld rather than read in the clear.
    """
    items = entry_or_items.items if hasattr(entry_or_items, "items") else entry_or_items
    rules: list[Rule] = []
    withheld: list[str] = []
    for item in items:
        if not item.column_name:
            continue
        # Anything without a confirmed grade (a catalog item as such, too) is withheld.
        chosen = default(getattr(item, "confirmed_grade", None), audience)
        if chosen.method == WITHHELD or (chosen.method == "pseudonym" and consumer_key is None):
            withheld.append(item.column_name)
        else:
            rules.append(Rule(item.column_name, chosen.method, dict(chosen.params)))
    return Plan(tuple(rules), tuple(withheld), consumer_key)
