"""What the identity API reads and writes. Hashes and secrets never appear in a *Public model."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from datapolis.orgs.models import ApiApp, Organisation, OrgKind, Role, User
from datapolis.orgs.permissions import Permission

_STRICT = ConfigDict(extra="forbid")  # a misspelt field is a 422, not silently ignored

# --- organisations -------------------------------------------------------------------------


class OrganisationBase(BaseModel):
    code: str = Field(description="Stable identifier, e.g. `371302` or `371300_gaj`.")
    name: str = Field(min_length=1, max_length=200)
    short_name: str | None = Field(None, max_length=100)
    kind: OrgKind
    division_code: str = Field(description="GB/T 2260 division code, 6 or 9 digits.")


class OrganisationCreate(OrganisationBase):
    model_config = _STRICT

    parent_code: str | None = None


class OrganisationUpdate(BaseModel):
    model_config = _STRICT

    name: str | None = Field(None, min_length=1, max_length=200)
    short_name: str | None = Field(None, max_length=100)
    division_code: str | None = None
    parent_code: str | None = None


class OrganisationPublic(OrganisationBase):
    parent_code: str | None
    created_at: datetime

    @classmethod
    def of(cls, org: Organisation) -> OrganisationPublic:
        return cls(
            code=org.code,
            name=org.name,
            short_name=org.short_name,
            kind=org.kind,
            division_code=org.division_code,
            parent_code=org.parent.code if org.parent is not None else None,
            created_at=org.created_at,
        )


class OrganisationNode(OrganisationPublic):
    children: list[OrganisationNode] = []


# Within one parent: sub-divisions first, then departments; each in division-code order.
_KIND_ORDER = {OrgKind.CITY: 0, OrgKind.COUNTY: 1, OrgKind.STREET: 2, OrgKind.DEPARTMENT: 3}


def organisation_tree(orgs: Iterable[Organisation]) -> list[OrganisationNode]:
    """Nest a flat list by parent; an org whose parent is not in the list becomes a root."""
    ordered = sorted(orgs, key=lambda o: (_KIND_ORDER[o.kind], o.division_code, o.code))
    code_of = {org.id: org.code for org in ordered}
    nodes = {
        org.id: OrganisationNode(
            code=org.code,
            name=org.name,
            short_name=org.short_name,
            kind=org.kind,
            division_code=org.division_code,
            parent_code=code_of.get(org.parent_id) if org.parent_id is not None else None,
            created_at=org.created_at,
        )
        for org in ordered
    }
    roots: list[OrganisationNode] = []
    for org in ordered:
        parent = nodes.get(org.parent_id) if org.parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[org.id])
    return roots


# --- users ---------------------------------------------------------------------------------


class UserBase(BaseModel):
    username: str
    display_name: str | None = Field(None, max_length=100)
    role: Role


class UserCreate(UserBase):
    model_config = _STRICT

    password: str = Field(repr=False)
    org_code: str | None = Field(None, description="Defaults to the caller's organisation.")


class UserUpdate(BaseModel):
    model_config = _STRICT

    role: Role | None = None
    is_active: bool | None = None
    display_name: str | None = Field(None, min_length=1, max_length=100)


class PasswordReset(BaseModel):
    model_config = _STRICT

    password: str = Field(repr=False)


class UserPublic(UserBase):
    display_name: str
    org_code: str
    org_name: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            org_code=user.org.code,
            org_name=user.org.name,
            is_active=user.is_active,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
        )


# --- API apps ------------------------------------------------------------------------------


class AppBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class AppCreate(AppBase):
    model_config = _STRICT

    org_code: str | None = Field(None, description="Defaults to the caller's organisation.")


class AppPublic(AppBase):
    app_key: str
    org_code: str
    org_name: str
    active: bool
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, app: ApiApp) -> AppPublic:
        return cls(
            name=app.name,
            app_key=app.app_key,
            org_code=app.org.code,
            org_name=app.org.name,
            active=app.revoked_at is None,
            created_at=app.created_at,
            revoked_at=app.revoked_at,
        )


class AppWithSecret(AppPublic):
    """Returned once, at creation or rotation; only an argon2 hash of the secret is kept."""

    app_secret: str

    @classmethod
    def issued(cls, app: ApiApp, secret: str) -> AppWithSecret:
        return cls(**AppPublic.of(app).model_dump(), app_secret=secret)


# --- tokens and the caller -----------------------------------------------------------------


class TokenResponse(BaseModel):
    """RFC 6749 section 5.1."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, no secret
    expires_in: int = Field(description="Seconds until the token expires.")


class MePublic(BaseModel):
    kind: Literal["user", "app"]
    name: str
    display_name: str
    role: Role | None
    org: OrganisationPublic
    permissions: list[Permission]
