"""Service functions of supply–demand docking: register a demand, move it through its states,
and keep its history.

    registered ──match──▶ matched ──start──▶ in_progress ──fulfil──▶ fulfilled
        │  ▲                │  └──────────────fulfil────────────────────▲
        │  └──(match again)─┘
        └──────────── close (with a reason) from any open state ──────▶ closed

Who may take a step is decided here, from the actor's organisation scope (`scope`: the ids of
their organisation and those below it; None for the bureau, which may take every step):
the requester moves its own demand along (start, fulfil, withdraw by closing); the provider of
the matched entry, or of the suggested provider, confirms a match and may close a demand it
cannot meet.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.demands.models import DataDemand, DemandEvent, DemandStatus, Urgency
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.versions import Actor
from datapolis.errors import Conflict, NotFound, UserError
from datapolis.orgs.models import Organisation
from datapolis.registry.base import utcnow
from datapolis.web.i18n import N_
from datapolis.web.render import SHOWN_ZONE

MAX_FIELDS = 200


class NotAllowed(UserError):
    status_code = 403


class Step(enum.StrEnum):
    MATCH = "match"
    START = "start"
    FULFIL = "fulfil"
    CLOSE = "close"


S = DemandStatus
OPEN = frozenset({S.REGISTERED, S.MATCHED, S.IN_PROGRESS})
SOURCES: dict[Step, frozenset[DemandStatus]] = {
    Step.MATCH: frozenset({S.REGISTERED, S.MATCHED}),
    Step.START: frozenset({S.MATCHED}),
    Step.FULFIL: frozenset({S.MATCHED, S.IN_PROGRESS}),
    Step.CLOSE: OPEN,
}
TARGETS = {Step.MATCH: S.MATCHED, Step.START: S.IN_PROGRESS, Step.FULFIL: S.FULFILLED,
           Step.CLOSE: S.CLOSED}
PAST_TENSE = {Step.MATCH: "matched", Step.START: "started", Step.FULFIL: "fulfilled",
              Step.CLOSE: "closed"}
STEP_LABELS = {Step.MATCH: N_("Confirm this match"), Step.START: N_("Mark in progress"),
               Step.FULFIL: N_("Mark fulfilled"), Step.CLOSE: N_("Close as unfulfillable")}
EVENT_LABELS = {"registered": N_("Demand registered"), "matched": N_("Match confirmed"),
                "started": N_("Docking in progress"), "fulfilled": N_("Fulfilled"),
                "closed": N_("Closed")}


@dataclass(frozen=True)
class DemandInput:
    title: str
    purpose: str
    description: str = ""
    fields: tuple[str, ...] = ()
    urgency: Urgency = Urgency.NORMAL
    provider_hint: Organisation | None = None


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _record(
    session: Session, demand: DataDemand, *, action: str, before: DemandStatus | None,
    actor: Actor, comment: str | None = None, now: datetime,
) -> DemandEvent:
    event = DemandEvent(
        number=len(demand.events) + 1, action=action, from_status=before,
        to_status=demand.status, entry_code=demand.entry.resource_code if demand.entry else None,
        comment=comment or None, actor=actor.name, actor_id=actor.user_id, created_at=now,
    )
    demand.events.append(event)
    return event


def register_demand(
    session: Session, *, data: DemandInput, requester: Organisation, actor: Actor
) -> DataDemand:
    title, purpose = _clean(data.title), _clean(data.purpose)
    if not title:
        raise UserError("a demand needs a title saying what data is wanted")
    if len(title) > 200:
        raise UserError(f"the title has {len(title)} characters; at most 200 are allowed")
    if not purpose:
        raise UserError("a demand needs its purpose (the business it serves)")
    fields = list(dict.fromkeys(f.strip() for f in data.fields if f.strip()))
    if len(fields) > MAX_FIELDS:
        raise UserError(f"at most {MAX_FIELDS} wanted fields; {len(fields)} given")
    if data.provider_hint is not None and data.provider_hint.id == requester.id:
        raise UserError("the suggested provider is the requesting organisation itself")
    now = utcnow()
    year = now.astimezone(SHOWN_ZONE).year
    last = session.scalar(select(func.max(DataDemand.sequence)).where(DataDemand.year == year))
    sequence = (last or 0) + 1
    demand = DataDemand(
        code=f"XQ{year}{sequence:06d}", year=year, sequence=sequence, title=title,
        description=_clean(data.description), purpose=purpose, fields=fields,
        urgency=data.urgency, status=S.REGISTERED, requester=requester,
        provider_hint=data.provider_hint, created_by_id=actor.user_id, events=[],
    )
    session.add(demand)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another registration took the number in the meantime
        raise Conflict("another demand was registered at the same moment; try again") from None
    _record(session, demand, action="registered", before=None, actor=actor, now=now)
    session.flush()
    return demand


def get_demand(session: Session, code: str) -> DataDemand:
    demand = session.scalar(select(DataDemand).where(DataDemand.code == code).options(
        selectinload(DataDemand.events), selectinload(DataDemand.requester),
        selectinload(DataDemand.provider_hint),
        selectinload(DataDemand.entry).selectinload(CatalogEntry.provider),
    ))
    if demand is None:
        raise NotFound(f"no data demand with code {code!r}")
    return demand


def list_demands(
    session: Session,
    *,
    status: DemandStatus | None = None,
    requester: Organisation | None = None,
    provider: Organisation | None = None,
) -> list[DataDemand]:
    """Demands, by requester then code; `provider`: suggested to it or matched to its entry."""
    query = select(DataDemand).options(
        selectinload(DataDemand.requester), selectinload(DataDemand.provider_hint),
        selectinload(DataDemand.entry).selectinload(CatalogEntry.provider),
    )
    if status is not None:
        query = query.where(DataDemand.status == status)
    if requester is not None:
        query = query.where(DataDemand.requester_id == requester.id)
    if provider is not None:
        matched = select(CatalogEntry.id).where(CatalogEntry.provider_id == provider.id)
        query = query.where((DataDemand.provider_hint_id == provider.id)
                            | DataDemand.entry_id.in_(matched))
    demands: list[DataDemand] = list(session.scalars(query))
    demands.sort(key=lambda d: (d.requester.code, d.code))
    return demands


# --- who may ---------------------------------------------------------------------------------


def is_requester(demand: DataDemand, scope: set[int] | None) -> bool:
    return scope is None or demand.requester_id in scope


def is_provider(demand: DataDemand, scope: set[int] | None, entry: CatalogEntry | None) -> bool:
    if scope is None:
        return True
    providers = {demand.provider_hint_id, entry.provider_id if entry else None,
                 demand.entry.provider_id if demand.entry else None}
    return bool(providers & scope)


def allowed_steps(demand: DataDemand, scope: set[int] | None) -> list[Step]:
    """The steps the actor may take now (what the page offers as buttons)."""
    steps = []
    for step in Step:
        if demand.status not in SOURCES[step]:
            continue
        if step is Step.MATCH and not is_provider(demand, scope, None):
            continue
        if step in (Step.START, Step.FULFIL) and not is_requester(demand, scope):
            continue
        if step is Step.CLOSE and not (is_requester(demand, scope)
                                       or is_provider(demand, scope, None)):
            continue
        steps.append(step)
    return steps


# --- steps -----------------------------------------------------------------------------------


def _check_source(demand: DataDemand, step: Step) -> None:
    if demand.status not in SOURCES[step]:
        allowed = ", ".join(sorted(s.value for s in SOURCES[step]))
        raise Conflict(f"cannot {step.value} demand {demand.code}: it is {demand.status.value}, "
                       f"and only {allowed} demands can be")


def confirm_match(
    session: Session, *, demand: DataDemand, entry: CatalogEntry, actor: Actor,
    scope: set[int] | None, comment: str | None = None,
) -> DataDemand:
    """The bureau, or the provider of `entry`, confirms that `entry` supplies the demand."""
    _check_source(demand, Step.MATCH)
    if not is_provider(demand, scope, entry):
        raise NotAllowed(f"only the bureau or the provider ({entry.provider.name}) can confirm "
                         f"that {entry.resource_code} meets demand {demand.code}")
    if entry.status is not EntryStatus.PUBLISHED:
        raise UserError(f"entry {entry.resource_code} is {entry.status.value}; only published "
                        "entries can supply a demand")
    if demand.entry_id == entry.id:
        raise Conflict(f"demand {demand.code} is already matched to {entry.resource_code}")
    before = demand.status
    demand.entry = entry
    demand.status = S.MATCHED
    _record(session, demand, action="matched", before=before, actor=actor,
            comment=_clean(comment) or None, now=utcnow())
    return demand


def advance(
    session: Session, *, demand: DataDemand, step: Step, actor: Actor, scope: set[int] | None,
    comment: str | None = None, sharing_reference: str | None = None,
) -> DataDemand:
    """start, fulfil or close a demand (match has its own function: it names an entry)."""
    if step is Step.MATCH:
        raise UserError("a match names its entry: use confirm_match")
    _check_source(demand, step)
    comment = _clean(comment) or None
    if step in (Step.START, Step.FULFIL) and not is_requester(demand, scope):
        raise NotAllowed(f"only {demand.requester.name} or the bureau can {step.value} "
                         f"demand {demand.code}")
    if step is Step.CLOSE:
        if not (is_requester(demand, scope) or is_provider(demand, scope, None)):
            raise NotAllowed(f"only the requester, the provider or the bureau can close "
                             f"demand {demand.code}")
        if not comment:
            raise UserError("closing a demand needs the reason it cannot be met")
        demand.close_reason = comment
    reference = _clean(sharing_reference) or None
    if reference is not None:
        if len(reference) > 64:
            raise UserError("a sharing application reference has at most 64 characters")
        demand.sharing_reference = reference
    before = demand.status
    demand.status = TARGETS[step]
    _record(session, demand, action=PAST_TENSE[step], before=before, actor=actor,
            comment=comment, now=utcnow())
    return demand
