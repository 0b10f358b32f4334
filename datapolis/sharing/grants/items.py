"""Which items of a resource a grant may let leave, and how: the security policy's method for a
department (confirmed grades only; protected columns withheld), tightened per grant, never
loosened.

Methods are ranked by how much of a value they let through: `keep` shows it; masking and the
generalisations show part of it; a keyed pseudonym shows only equality; suppression shows
nothing. A grant may pick a method of a higher rank than the policy's, or the same method with
parameters that show no more (fewer characters kept, a coarser date, a wider band, a narrower
clamp, more noise); anything else is refused with what would be allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry
from datapolis.errors import UserError
from datapolis.security.deid.methods import method as deid_method
from datapolis.security.deid.policy import WITHHELD, default, view_for
from datapolis.security.fields.reads import withhold
from datapolis.security.grading.service import graded_fields
from datapolis.web.i18n import N_

AUDIENCE = "department"
_STAND_IN_KEY = bytes(32)

RANK: dict[str, int] = {
    "keep": 0,
    "mask": 1, "date": 1, "band": 1, "district": 1, "clamp": 1, "noise": 1,
    "pseudonym": 2,
    "suppress": 3,
}


# Labels (English msgids) of the methods a grant form offers.
METHOD_LABELS: dict[str, str] = {
    "keep": N_("Shown as stored"), "mask": N_("Masked"), "date": N_("Date to month"),
    "band": N_("Number to a band"), "district": N_("Address to its district"),
    "clamp": N_("Top and bottom coding"), "noise": N_("Noise"),
    "pseudonym": N_("Keyed pseudonym"), "suppress": N_("Suppressed"),
}


def stricter(method: str) -> list[str]:
    """The methods a grant form offers instead of the policy's `method` (all no looser with
    their default parameters)."""
    rank = RANK.get(method, 3)
    return [m for m, r in RANK.items() if r > rank]


class ItemRefused(UserError):
    """An item that cannot leave, or a method looser than the policy allows."""


@dataclass(frozen=True)
class GrantedItem:
    column: str  # warehouse column name
    method: str  # deid method name from security.deid.methods ("keep" = clear)
    params: Mapping[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Allowed:
    """What the policy says of one column: its floor method, or why it may not leave."""

    column: str
    item: str  # the information item's name
    floor: GrantedItem | None
    reason: str | None = None  # set when floor is None


def policy(session: Session, entry: CatalogEntry) -> dict[str, Allowed]:
    """Each column of the entry with the least de-identification the policy allows a
    department, or the reason it is withheld."""
    fields = [f for f in graded_fields(session, entry) if f.column_name]
    # The consumer's key is the gateway's business; a stand-in key only keeps view_for from
    # withholding the pseudonymised columns, so that their method can be read here.
    plan = view_for(fields, AUDIENCE, consumer_key=_STAND_IN_KEY)
    table = entry.warehouse_table
    plan = withhold(session, table, plan) if table else plan
    reasons = {str(f.column_name): "its security grade is not confirmed"
               if not f.confirmed_grade else f"its grade {f.confirmed_grade} never leaves"
               for f in fields if default(f.confirmed_grade, AUDIENCE).method == WITHHELD}
    kept = {rule.column: rule for rule in plan.rules}
    found: dict[str, Allowed] = {}
    for graded in fields:
        column = str(graded.column_name)
        rule = kept.get(column)
        if rule is not None:
            params = deid_method(rule.method).checked(rule.params)
            found[column] = Allowed(column, graded.name, GrantedItem(column, rule.method, params))
        else:
            found[column] = Allowed(column, graded.name, None,
                                    reasons.get(column, "it is encrypted at rest (protected)"))
    return found


def no_looser(floor: GrantedItem, chosen: GrantedItem) -> bool:
    """Whether `chosen` shows no more of the column than `floor` does."""
    low, high = RANK.get(floor.method), RANK.get(chosen.method)
    if low is None or high is None:
        return floor == chosen
    if high != low:
        return high > low
    if chosen.method != floor.method:
        return low == 0  # two different partial views are not comparable; keep is one method
    p, q = floor.params, chosen.params
    match chosen.method:
        case "mask":
            return int(q["first"]) <= int(p["first"]) and int(q["last"]) <= int(p["last"])
        case "date":
            return q["unit"] == "year" or p["unit"] == "month"
        case "band":
            return int(q["width"]) >= int(p["width"]) and int(q["width"]) % int(p["width"]) == 0
        case "clamp":
            return int(q["low"]) >= int(p["low"]) and int(q["high"]) <= int(p["high"])
        case "noise":
            return (q["kind"] == p["kind"] and int(q["scale"]) >= int(p["scale"])
                    and int(q["digits"]) <= int(p["digits"]))
    return True  # keep, district, pseudonym, suppress: no parameter loosens them


def choose(allowed: Mapping[str, Allowed], columns: Iterable[str],
           methods: Mapping[str, tuple[str, Mapping[str, int | str]]] | None = None
           ) -> tuple[GrantedItem, ...]:
    """The granted items for `columns`: the policy's method, or the one `methods` names when
    it shows no more. Everything is checked before anything is returned."""
    methods = methods or {}
    wanted = list(dict.fromkeys(columns))
    if not wanted:
        raise ItemRefused("choose at least one information item")
    unknown = [c for c in [*wanted, *methods] if c not in allowed]
    if unknown:
        raise ItemRefused(f"the resource has no item with column {unknown[0]!r}; it has: "
                          + ", ".join(sorted(allowed)))
    stray = [c for c in methods if c not in wanted]
    if stray:
        raise ItemRefused(f"a method is given for {stray[0]!r}, which is not requested")
    chosen: list[GrantedItem] = []
    for column in wanted:
        rule = allowed[column]
        if rule.floor is None:
            raise ItemRefused(f"item {rule.item} ({column}) cannot be shared: {rule.reason}")
        if column not in methods:
            chosen.append(rule.floor)
            continue
        name, given = methods[column]
        item = GrantedItem(column, name, deid_method(name).checked(given))
        if not no_looser(rule.floor, item):
            raise ItemRefused(
                f"item {rule.item} ({column}): {describe(item)} shows more than the security "
                f"policy's {describe(rule.floor)}; choose that, a stricter setting of it, or a "
                "method of a higher rank (pseudonym, suppress)")
        chosen.append(item)
    return tuple(chosen)


def effective(allowed: Mapping[str, Allowed], items: Iterable[GrantedItem]
              ) -> tuple[GrantedItem, ...]:
    """The stored items under today's policy: an item whose grade has since become stricter
    leaves under the policy's method, and an item the policy now withholds does not leave."""
    found: list[GrantedItem] = []
    for item in items:
        rule = allowed.get(item.column)
        if rule is None or rule.floor is None:
            continue
        found.append(item if no_looser(rule.floor, item) else rule.floor)
    return tuple(found)


def describe(item: GrantedItem) -> str:
    """`column:method(param=value, …)` for lists and messages."""
    shown = f"{item.column}:{item.method}"
    params = {k: v for k, v in item.params.items() if v != ""}
    if not params:
        return shown
    return shown + "(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
