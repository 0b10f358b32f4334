"""Applications (共享申请): a department applies for a published resource; the provider's
organisation admin and then (setting `sharing_bureau_review`) the bureau approve or reject it
with a comment; the last approval creates the grant.

    无条件共享  submitted ──────────────────────────────▶ granted (at once)
    有条件共享  submitted ─▶ provider_review ─▶ bureau_review ─▶ granted
                                  │                 │
                                  └──▶ rejected ◀───┘      (withdrawn: by the applicant)
    不予共享    refused (409), nothing is stored

Every step is a row of the application's history and an audit event. Nobody decides an
application they made; a department decides only applications for its own resources; the bureau
step needs `sharing.grants`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.enums import ShareType
from datapolis.catalog.models import CatalogEntry
from datapolis.errors import Conflict, NotFound, UserError
from datapolis.orgs.models import ApiApp, Organisation, User
from datapolis.orgs.permissions import Permission
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.security.fields.reads import NotAllowed
from datapolis.sharing.applications.models import OPEN_STATES, Application, State, Step
from datapolis.sharing.grants import items as grant_items
from datapolis.sharing.grants import service as grants
from datapolis.sharing.grants.service import SHANGHAI, Limits

MAX_TEXT = 2000
Methods = Mapping[str, tuple[str, Mapping[str, int | str]]]


class Person(Protocol):
    """Who acts (orgs.deps.Principal fits)."""

    @property
    def name(self) -> str: ...

    @property
    def org(self) -> Organisation: ...

    @property
    def user(self) -> User | None: ...

    def can(self, permission: Permission) -> bool: ...


@dataclass(frozen=True)
class Request:
    purpose: str
    legal_basis: str
    scenario: str
    columns: Sequence[str]
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Terms:
    """What an approver grants; anything left out keeps the application's or the default."""

    columns: Sequence[str] | None = None  # a subset of the requested items
    methods: Methods = field(default_factory=dict)
    row_scope: str | None = None
    default_scope: bool = True  # row_scope None: a county consumer's division, else all rows
    limits: Limits = field(default_factory=Limits)
    valid_until: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns) if self.columns is not None else None,
                "methods": {c: [m, dict(p)] for c, (m, p) in self.methods.items()},
                "row_scope": self.row_scope, "default_scope": self.default_scope,
                "calls_per_day": self.limits.calls_per_day,
                "rows_per_day": self.limits.rows_per_day,
                "rate_per_second": self.limits.rate_per_second,
                "valid_until": self.valid_until.isoformat() if self.valid_until else None}

    @classmethod
    def of_json(cls, data: Mapping[str, Any] | None) -> Terms:
        if not data:
            return cls()
        until = data.get("valid_until")
        return cls(columns=data.get("columns"),
                   methods={c: (m, p) for c, (m, p) in (data.get("methods") or {}).items()},
                   row_scope=data.get("row_scope"),
                   default_scope=bool(data.get("default_scope", True)),
                   limits=Limits(data.get("calls_per_day"), data.get("rows_per_day"),
                                 data.get("rate_per_second")),
                   valid_until=datetime.fromisoformat(until) if until else None)


# --- reading -------------------------------------------------------------------------------


def get_application(session: Session, code: str) -> Application:
    found = session.scalar(select(Application).where(Application.code == code)
                           .options(selectinload(Application.steps)))
    if found is None:
        raise NotFound(f"no application {code!r}")
    return found


def list_applications(session: Session, *, consumer_ids: set[int] | None = None,
                      provider_ids: set[int] | None = None, states: set[State] | None = None,
                      limit: int = 500) -> list[Application]:
    """Newest first; `consumer_ids` and `provider_ids` together mean either side."""
    query = select(Application).order_by(Application.id.desc()).limit(limit)
    sides = []
    if consumer_ids is not None:
        sides.append(Application.consumer_org_id.in_(consumer_ids))
    if provider_ids is not None:
        sides.append(Application.provider_org_id.in_(provider_ids))
    if sides:
        query = query.where(or_(*sides))
    if states:
        query = query.where(Application.state.in_(states))
    return list(session.scalars(query))


def queue(session: Session, person: Person) -> list[Application]:
    """What waits for `person`'s decision: their organisation's resources in provider review,
    and, for the bureau, everything in bureau review. Never their own applications."""
    found: list[Application] = []
    if person.can(Permission.APPROVE_SHARING):
        found += list_applications(session, provider_ids={person.org.id},
                                   states={State.PROVIDER_REVIEW})
    if person.can(Permission.MANAGE_GRANTS):
        found += list_applications(session, states={State.BUREAU_REVIEW})
    me = person.user.id if person.user is not None else None
    return sorted({a.id: a for a in found if me is None or a.applicant_id != me}.values(),
                  key=lambda a: a.id)


def may_see(person: Person, application: Application) -> bool:
    return (person.can(Permission.MANAGE_GRANTS)
            or person.org.id in (application.consumer_org_id, application.provider_org_id))


# --- the workflow --------------------------------------------------------------------------


def _text(name: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise UserError(f"{name} is required")
    if len(value) > MAX_TEXT:
        raise UserError(f"{name} is longer than {MAX_TEXT} characters")
    return value


def _step(session: Session, application: Application, *, action: str, to: State,
          person: Person | None, comment: str | None = None) -> None:
    before = None if action == "submitted" else application.state
    actor = person.name if person is not None else "system"
    entry = session.get(CatalogEntry, application.entry_id)
    application.steps.append(Step(
        action=action, from_state=before.value if before else None, to_state=to.value,
        actor=actor, actor_id=person.user.id if person and person.user else None,
        org_id=person.org.id if person else None, comment=comment, at=utcnow()))
    application.state = to
    session.flush()
    audit.record(session, kind=f"sharing.application.{action}", actor=actor,
                 org=person.org.code if person else None, details={
                     "application": application.code,
                     "resource": entry.resource_code if entry else None,
                     "from": before.value if before else None, "to": to.value,
                     "comment": comment})


def apply(session: Session, person: Person, *, entry: CatalogEntry, app: ApiApp,
          request: Request) -> Application:
    """File an application for `entry` for `person`'s organisation and app.

    An unconditionally shared resource is granted at once (items under the security policy,
    a county consumer limited to its division); a conditional one waits for the provider."""
    if not person.can(Permission.APPLY_SHARING):
        raise NotAllowed(f"permission {Permission.APPLY_SHARING.value} required to apply")
    grants.check_shareable(entry)
    consumer = person.org
    if entry.provider_id == consumer.id:
        raise Conflict(f"resource {entry.resource_code} is your organisation's own")
    grants.check_app(app, consumer)
    purpose = _text("purpose", request.purpose)
    legal_basis = _text("legal basis", request.legal_basis)
    scenario = _text("use scenario", request.scenario)
    allowed = grant_items.policy(session, entry)
    columns = [i.column for i in grant_items.choose(allowed, request.columns)]
    if request.valid_until is not None and request.valid_until <= utcnow():
        raise UserError("the requested period has already ended")
    start = request.valid_from or utcnow()
    grants.check_window(start, request.valid_until)
    application = Application(
        code=f"pending-{secrets.token_hex(8)}", entry_id=entry.id,
        provider_org_id=entry.provider_id, consumer_org_id=consumer.id, app_id=app.id,
        applicant_id=person.user.id if person.user else None, applicant=person.name,
        purpose=purpose, legal_basis=legal_basis, scenario=scenario, columns=columns,
        valid_from=start, valid_until=request.valid_until, state=State.PROVIDER_REVIEW,
        created_at=utcnow())
    session.add(application)
    session.flush()
    application.code = f"A{application.created_at.astimezone(SHANGHAI):%Y%m%d}" \
                       f"{application.id:05d}"
    _step(session, application, action="submitted", to=State.PROVIDER_REVIEW, person=person)
    if entry.share_type == ShareType.UNCONDITIONAL:
        _grant(session, application, Terms(), person=None,
               comment="无条件共享: granted on application")
    return application


def _grant(session: Session, application: Application, terms: Terms, *,
           person: Person | None, comment: str | None) -> None:
    entry = session.get(CatalogEntry, application.entry_id)
    consumer = session.get(Organisation, application.consumer_org_id)
    app = session.get(ApiApp, application.app_id)
    assert entry is not None and consumer is not None and app is not None
    columns = list(terms.columns) if terms.columns is not None else list(application.columns)
    extra = [c for c in columns if c not in application.columns]
    if extra:
        raise UserError(f"item {extra[0]!r} was not requested; grant a subset of "
                        + ", ".join(application.columns))
    scope = terms.row_scope
    if scope is None and terms.default_scope:
        scope = grants.default_scope(entry, consumer)
    grant = grants.create_grant(
        session, entry=entry, consumer=consumer, app=app, columns=columns,
        methods=terms.methods, row_scope=scope, limits=terms.limits,
        valid_from=application.valid_from,
        valid_until=terms.valid_until or application.valid_until,
        actor=person.name if person else "system")
    application.grant_id = grant.id
    application.decided_at = utcnow()
    _step(session, application, action="granted", to=State.GRANTED, person=person,
          comment=comment)


def check_decider(application: Application, person: Person) -> str:
    """Which review `person` may decide now: "provider" or "bureau"; NotAllowed otherwise."""
    if application.state not in OPEN_STATES:
        raise Conflict(f"application {application.code} is {application.state.value}; "
                       "only applications under review can be decided")
    if person.user is not None and person.user.id == application.applicant_id:
        raise NotAllowed("nobody decides an application they made")
    if application.state == State.PROVIDER_REVIEW:
        if not person.can(Permission.APPROVE_SHARING) or \
                person.org.id != application.provider_org_id:
            raise NotAllowed("only the providing department's administrators decide this "
                             "application")
        return "provider"
    if not person.can(Permission.MANAGE_GRANTS):
        raise NotAllowed("the bureau (permission sharing.grants) decides this application")
    return "bureau"


def approve(session: Session, application: Application, person: Person, *,
            comment: str | None = None, terms: Terms | None = None,
            bureau_review: bool = True) -> Application:
    """The provider's or the bureau's approval; the last one creates the grant on `terms`
    (the provider's terms carry over to the bureau, who may replace them within the policy)."""
    stage = check_decider(application, person)
    comment = comment.strip() if comment and comment.strip() else None
    if terms is None:
        terms = Terms.of_json(application.terms) if stage == "bureau" else Terms()
    if stage == "provider" and bureau_review:
        _validate(session, application, terms)
        application.terms = terms.as_json()
        _step(session, application, action="provider_approved", to=State.BUREAU_REVIEW,
              person=person, comment=comment)
        return application
    action = "provider_approved" if stage == "provider" else "bureau_approved"
    _step(session, application, action=action, to=application.state, person=person,
          comment=comment)
    _grant(session, application, terms, person=person, comment=comment)
    return application


def _validate(session: Session, application: Application, terms: Terms) -> None:
    """Check terms now (items, scope, limits) so a bad choice is refused at the provider."""
    entry = session.get(CatalogEntry, application.entry_id)
    assert entry is not None
    columns = list(terms.columns) if terms.columns is not None else list(application.columns)
    extra = [c for c in columns if c not in application.columns]
    if extra:
        raise UserError(f"item {extra[0]!r} was not requested; grant a subset of "
                        + ", ".join(application.columns))
    grant_items.choose(grant_items.policy(session, entry), columns, terms.methods)
    grants.check_scope(entry, terms.row_scope)
    terms.limits.checked()


def reject(session: Session, application: Application, person: Person, *,
           comment: str) -> Application:
    stage = check_decider(application, person)
    reason = _text("a comment saying why", comment)
    application.decided_at = utcnow()
    _step(session, application, action=f"{stage}_rejected", to=State.REJECTED, person=person,
          comment=reason)
    return application


def withdraw(session: Session, application: Application, person: Person, *,
             comment: str | None = None) -> Application:
    if application.state not in OPEN_STATES:
        raise Conflict(f"application {application.code} is {application.state.value}; "
                       "only applications under review can be withdrawn")
    if person.org.id != application.consumer_org_id or not person.can(Permission.APPLY_SHARING):
        raise NotAllowed("only the applying organisation withdraws an application")
    application.decided_at = utcnow()
    _step(session, application, action="withdrawn", to=State.WITHDRAWN, person=person,
          comment=comment)
    return application
