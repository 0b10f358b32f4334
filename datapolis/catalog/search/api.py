"""GET /api/catalog/search: full-text search with facets (included by catalog/api.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from datapolis.catalog.access import own_provider_ids
from datapolis.catalog.schemas import EntrySummary
from datapolis.catalog.search.service import MAX_PAGE_SIZE, search_entries
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission

router = APIRouter()

Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Values = Annotated[list[str], Query()]


class FacetValuePublic(BaseModel):
    value: str
    label: str
    count: int
    selected: bool


class SearchHitPublic(BaseModel):
    entry: EntrySummary
    score: float
    name_html: str  # HTML-escaped name with the query words in <mark>
    summary_html: str  # HTML-escaped excerpt of the summary, likewise


class SearchResultPublic(BaseModel):
    query: str
    words: list[str]
    total: int
    page: int
    size: int
    pages: int
    hits: list[SearchHitPublic]
    facets: dict[str, list[FacetValuePublic]]


@router.get("/search")
def search(
    session: SessionDep,
    principal: Reader,
    q: Annotated[str, Query(description="Words to find (all of them), Chinese or not")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    provider: Values = [],  # noqa: B006 -- FastAPI copies query defaults
    catalog_type: Values = [],  # noqa: B006
    share_type: Values = [],  # noqa: B006
    open_: Annotated[list[str], Query(alias="open")] = [],  # noqa: B006
    update_cycle: Values = [],  # noqa: B006
    grade: Values = [],  # noqa: B006
    status: Values = [],  # noqa: B006
) -> SearchResultPublic:
    """Entries the caller may see holding every word of `q`, best first, with facet counts.

    Repeat a facet parameter to accept several values (`share_type=conditional&
    share_type=unconditional`); different facets must all hold.
    """
    found = search_entries(
        session, query=q, page=page, size=size,
        provider_ids=own_provider_ids(session, principal),
        filters={"provider": provider, "catalog_type": catalog_type, "share_type": share_type,
                 "open": open_, "update_cycle": update_cycle, "grade": grade, "status": status},
    )
    return SearchResultPublic(
        query=found.query, words=list(found.words), total=found.total, page=found.page,
        size=found.size, pages=found.pages,
        hits=[SearchHitPublic(entry=EntrySummary.of(hit.entry), score=round(hit.score, 4),
                              name_html=str(hit.name_html), summary_html=str(hit.summary_html))
              for hit in found.hits],
        facets={name: [FacetValuePublic(value=v.value, label=v.label, count=v.count,
                                        selected=v.selected) for v in values]
                for name, values in found.facets.items()},
    )
