"""The search part of the catalog's entry list (/catalog?q=...): hits with the query words
marked, and facets whose values are links that add or remove themselves from the search.

The page searches when it has words (`q`) or a facet only search offers (share type, open,
update cycle, grade); otherwise it stays the plain list. Facet values ride in the query string
as repeated parameters (`share_type=conditional&share_type=unconditional`); the entry list's
own `type` parameter stands for the `catalog_type` facet.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session

from datapolis.catalog.access import own_provider_ids
from datapolis.catalog.search import FACETS, SearchPage, search_entries
from datapolis.catalog.search.entries import NO_GRADE
from datapolis.errors import UserError
from datapolis.orgs.deps import Principal
from datapolis.web.i18n import N_

PAGE_SIZE = 50
FACET_TITLES = {
    "provider": N_("Provider"), "catalog_type": N_("Catalog type"),
    "share_type": N_("Share type"), "open": N_("Open to the public"),
    "update_cycle": N_("Update cycle"), "grade": N_("Security grade"), "status": N_("Status"),
}
# search.service labels the open facet with these English msgids; marked here for extraction.
OPEN_LABELS = (N_("Open to the public"), N_("Not open to the public"))
NOT_GRADED = N_("Not graded")
PARAMETER = {facet: facet for facet in FACETS} | {"catalog_type": "type"}
SEARCH_ONLY = ("share_type", "open", "update_cycle", "grade")


@dataclass(frozen=True)
class FacetLink:
    value: str
    label: str
    count: int
    selected: bool
    href: str


@dataclass(frozen=True)
class SearchView:
    query: str
    found: SearchPage | None
    facets: list[tuple[str, str, list[FacetLink]]]  # facet, title, values
    error: str | None = None


def wanted(request: Request) -> bool:
    params = request.query_params
    return bool(params.get("q", "").strip()) or any(params.getlist(f) for f in SEARCH_ONLY)


def _filters(request: Request) -> dict[str, list[str]]:
    return {facet: [v for v in request.query_params.getlist(PARAMETER[facet]) if v]
            for facet in FACETS}


def _href(query: str, filters: dict[str, list[str]], facet: str, value: str) -> str:
    toggled = {name: list(values) for name, values in filters.items()}
    chosen = toggled[facet]
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)
    pairs = [("q", query)] + [(PARAMETER[name], v) for name, values in toggled.items()
                              for v in values]
    return "/catalog?" + urlencode(pairs)


def search_view(request: Request, session: Session, principal: Principal) -> SearchView:
    query = request.query_params.get("q", "").strip()
    filters = _filters(request)
    page = request.query_params.get("page", "1")
    try:
        found = search_entries(session, query=query, filters=filters,
                               provider_ids=own_provider_ids(session, principal),
                               page=int(page) if page.isdigit() else 1, size=PAGE_SIZE)
    except UserError as exc:
        return SearchView(query, None, [], str(exc))
    facets = []
    for facet in FACETS:
        values = [FacetLink(v.value, NOT_GRADED if (facet, v.value) == ("grade", NO_GRADE)
                            else v.label, v.count, v.selected,
                            _href(found.query, filters, facet, v.value))
                  for v in found.facets.get(facet, []) if v.count or v.selected]
        if values:
            facets.append((facet, FACET_TITLES[facet], values))
    return SearchView(query, found, facets)
