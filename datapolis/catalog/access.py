"""Who may see and change which entries (shared by the API and the pages).

Reviewers (catalog.review) see and review every entry. Everyone else sees published entries
and every entry of their own organisation and the organisations below it, and edits those.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.versions import Actor
from datapolis.errors import NotFound
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal
from datapolis.orgs.models import Organisation
from datapolis.orgs.permissions import Permission


def own_provider_ids(session: Session, principal: Principal) -> set[int] | None:
    """Providers whose unpublished entries the caller sees and may change; None: all."""
    if principal.can(Permission.REVIEW_CATALOG):
        return None
    return orgs_service.descendant_ids(session, principal.org)


def check_visible(session: Session, principal: Principal, entry: CatalogEntry) -> None:
    scope = own_provider_ids(session, principal)
    if entry.status is EntryStatus.PUBLISHED or scope is None or entry.provider_id in scope:
        return
    # Someone else's draft: as if it did not exist.
    raise NotFound(f"no catalog entry with resource code {entry.resource_code!r}")


def check_provider(session: Session, principal: Principal, provider: Organisation) -> None:
    scope = own_provider_ids(session, principal)
    if scope is not None and provider.id not in scope:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"entries of {provider.name} ({provider.code}) are outside your organisation",
        )


def check_changes(session: Session, principal: Principal, entry: CatalogEntry) -> None:
    check_visible(session, principal, entry)
    check_provider(session, principal, entry.provider)


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.name, principal.user.id if principal.user is not None else None)
