"""The CKAN actions we answer, each a small function in one registry (`ACTIONS`).

An action takes the call's context and its parameters (a JSON body, or the query string of
a GET, where lists and objects come JSON-encoded as CKAN accepts them) and returns CKAN's
`result`. Errors are raised as `ActionError`s and become CKAN's error shapes in api.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from datapolis import __version__
from datapolis.errors import NotFound, UserError
from datapolis.portal import datasets, datastore
from datapolis.portal.ckan.dicts import (
    find_resource,
    group_dict,
    organization_dict,
    package_dict,
    resource_dict,
    tag_dict,
)
from datapolis.portal.datasets import DOWNLOAD_FORMATS, Sort
from datapolis.portal.licences import LICENCES
from datapolis.portal.themes import BY_CODE, THEMES
from datapolis.portal.urls import PortalUrls, stable_id
from datapolis.warehouse.engine import Engine

CKAN_VERSION = "2.10.4"  # the Action API version whose shapes we follow


class ActionError(Exception):
    status_code = 400
    type = "Bad request"

    def body(self) -> dict[str, Any]:
        return {"__type": self.type, "message": f"{self.type}: {self}"}


class NotFoundError(ActionError):
    status_code = 404
    type = "Not Found Error"


class ValidationError(ActionError):
    status_code = 409
    type = "Validation Error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def body(self) -> dict[str, Any]:
        return {"__type": self.type, self.field: [str(self)]}


class SearchQueryError(ActionError):
    status_code = 409
    type = "Search Query Error"


@dataclass(frozen=True)
class Context:
    session: Session
    engine: Engine
    urls: PortalUrls
    site_title: str
    touched: list[tuple[str, str]] = field(default_factory=list)  # (dataset, provider) used

    def used(self, dataset: datasets.Dataset) -> None:
        self.touched.append((dataset.code, dataset.provider.code))


Params = dict[str, Any]
Action = Callable[[Context, Params], Any]
ACTIONS: dict[str, Action] = {}


def action(function: Action) -> Action:
    ACTIONS[function.__name__] = function
    return function


# --- parameters ------------------------------------------------------------------------------


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(name, "Missing value")
    return str(value).strip()


def _int(params: Params, name: str, default: int, low: int = 0, high: int = 1_000_000) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(name, "Invalid integer") from None
    if not low <= number <= high:
        raise ValidationError(name, f"Must be between {low} and {high}")
    return number


def _bool(params: Params, name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValidationError(name, "Invalid boolean")


def _json(params: Params, name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            raise ValidationError(name, "Could not parse as valid JSON") from None
    return value


def _page(params: Params, names: list[str], default_limit: int = 1000) -> list[str]:
    offset = _int(params, "offset", 0)
    limit = _int(params, "limit", default_limit, 0, 1000)
    return names[offset:offset + limit]


# --- site, packages, resources ---------------------------------------------------------------


@action
def status_show(ctx: Context, params: Params) -> Any:
    return {"ckan_version": CKAN_VERSION, "site_url": ctx.urls.base,
            "site_title": ctx.site_title, "site_description": "",
            "locale_default": "zh_Hans_CN", "error_emails_to": None,
            "extensions": ["datastore", "dcat"], "datapolis_version": __version__}


@action
def package_list(ctx: Context, params: Params) -> Any:
    return _page(params, sorted(datasets.slug_of(code)
                                for code in datasets.dataset_codes(ctx.session)))


def _dataset(ctx: Context, ident: str) -> datasets.Dataset:
    try:
        return datasets.get_dataset(ctx.session, ident)
    except NotFound:
        pass
    for code in datasets.dataset_codes(ctx.session):  # a package's UUID
        if stable_id("package", code) == ident:
            return datasets.get_dataset(ctx.session, code)
    raise NotFoundError("Dataset not found")


@action
def package_show(ctx: Context, params: Params) -> Any:
    dataset = _dataset(ctx, _required(params, "id"))
    ctx.used(dataset)
    return package_dict(dataset, ctx.urls, session=ctx.session, engine=ctx.engine)


@action
def resource_show(ctx: Context, params: Params) -> Any:
    found = find_resource(ctx.session, _required(params, "id"))
    if found is None:
        raise NotFoundError("Resource was not found.")
    dataset, fmt = found
    ctx.used(dataset)
    return resource_dict(dataset, fmt, ctx.urls, DOWNLOAD_FORMATS.index(fmt))


# --- search ----------------------------------------------------------------------------------

# CKAN's facet and fq field -> our facet; license_id values are translated below.
FIELDS = {"organization": "provider", "groups": "theme", "tags": "tag",
          "res_format": "res_format", "license_id": "open_kind", "update_cycle": "update_cycle",
          "open_kind": "open_kind", "format_class": "format"}
LICENCE_OF = {kind: licence.id for kind, licence in LICENCES.items()}
KIND_OF = {licence: kind for kind, licence in LICENCE_OF.items()}
SORTS = {"score": "relevance", "metadata_modified": "modified", "metadata_created": "published",
         "name": "code", "title": "name", "title_string": "name"}
_TERM = re.compile(r'(?:^|\s)\+?([a-z_]+):("[^"]*"|\S+)')


def _parse_fq(text: str) -> dict[str, set[str]]:
    chosen: dict[str, set[str]] = {}
    rest = _TERM.sub(" ", text)
    if rest.replace("AND", " ").strip():
        raise SearchQueryError(f"cannot parse fq {text!r}: use field:value terms")
    for name, raw in _TERM.findall(text):
        if name not in FIELDS:
            raise SearchQueryError(f"unknown fq field {name!r}; known: "
                                   + ", ".join(sorted(FIELDS)))
        value = raw.strip('"')
        if name == "license_id":
            value = KIND_OF.get(value, value)
        chosen.setdefault(FIELDS[name], set()).add(value)
    return chosen


def _parse_sort(text: str) -> list[Sort]:
    order = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in SORTS or len(words) > 2 or (
                len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise SearchQueryError(f"cannot sort by {part.strip()!r}; sort fields are "
                                   + ", ".join(SORTS))
        order.append(Sort(SORTS[words[0]], len(words) == 2 and words[1].lower() == "desc"))
    return order


def _facet_items(ctx: Context, field: str, counts: dict[str, int]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}
    if field == "organization":
        names = {org.code: org.name for org, _ in datasets.open_providers(ctx.session)}
    elif field == "groups":
        names = {code: theme.name_zh for code, theme in BY_CODE.items()}
    return [{"name": value, "display_name": names.get(value, value), "count": count}
            for value, count in counts.items()]


@action
def package_search(ctx: Context, params: Params) -> Any:
    q = str(params.get("q") or "").strip()
    filters = _parse_fq(str(params.get("fq") or ""))
    # Fielded terms in q (organization:x) filter as in fq; "*:*" is everything.
    if q in ("*:*", "*"):
        q = ""
    fielded = [m for m in _TERM.finditer(q) if m.group(1) in FIELDS]
    if fielded:
        for field, values in _parse_fq(" ".join(m.group(0) for m in fielded)).items():
            filters.setdefault(field, set()).update(values)
        q = _TERM.sub(lambda m: " " if m.group(1) in FIELDS else m.group(0), q).strip()
    rows = _int(params, "rows", 10, 0, 1000)
    start = _int(params, "start", 0)
    sort = str(params.get("sort") or "score desc, metadata_modified desc")
    facet_fields = _json(params, "facet.field") or []
    if isinstance(facet_fields, str):
        facet_fields = [facet_fields]
    if not isinstance(facet_fields, list):
        raise ValidationError("facet.field", "Must be a list of field names")
    unknown = [f for f in facet_fields if f not in FIELDS]
    if unknown:
        raise SearchQueryError(f"cannot facet by {unknown[0]!r}; facet fields are "
                               + ", ".join(sorted(FIELDS)))
    facet_limit = _int(params, "facet.limit", 50, -1, 10_000)
    try:
        page = datasets.search_datasets(ctx.session, query=q, filters=filters,
                                        sort=_parse_sort(sort), offset=start, limit=rows)
    except UserError as exc:
        raise SearchQueryError(str(exc)) from None
    facets: dict[str, dict[str, int]] = {}
    for field in facet_fields:
        counts = page.facets[FIELDS[field]]
        if field == "license_id":
            counts = {LICENCE_OF.get(k, k): v for k, v in counts.items()}  # type: ignore[call-overload]
        if facet_limit >= 0:
            counts = dict(list(counts.items())[:facet_limit])
        facets[field] = counts
    return {
        "count": page.total,
        "sort": sort,
        "facets": facets,
        "search_facets": {field: {"title": field, "items": _facet_items(ctx, field, counts)}
                          for field, counts in facets.items()},
        "results": [package_dict(d, ctx.urls) for d in page.datasets],
    }


# --- organisations, groups, tags -------------------------------------------------------------


def _names_or_dicts(params: Params, dicts: list[dict[str, Any]]) -> list[Any]:
    sort = str(params.get("sort") or "name asc").split()
    key = sort[0] if sort and sort[0] in ("name", "title", "package_count") else "name"
    reverse = len(sort) > 1 and sort[1].lower() == "desc"
    dicts = sorted(dicts, key=lambda d: d.get(key) or 0, reverse=reverse)
    wanted = _page(params, [d["name"] for d in dicts])
    if not _bool(params, "all_fields"):
        return wanted
    by_name = {d["name"]: d for d in dicts}
    return [by_name[name] for name in wanted]


@action
def organization_list(ctx: Context, params: Params) -> Any:
    return _names_or_dicts(params, [organization_dict(org, ctx.urls, count)
                                    for org, count in datasets.open_providers(ctx.session)])


@action
def organization_show(ctx: Context, params: Params) -> Any:
    ident = _required(params, "id")
    for org, count in datasets.open_providers(ctx.session):
        if ident in (org.code, stable_id("organization", org.code)):
            found = organization_dict(org, ctx.urls, count)
            if _bool(params, "include_datasets"):
                page = datasets.search_datasets(ctx.session, filters={"provider": [org.code]},
                                                limit=1000)
                found["packages"] = [package_dict(d, ctx.urls) for d in page.datasets]
            return found
    raise NotFoundError("Organization not found")


@action
def group_list(ctx: Context, params: Params) -> Any:
    counts = datasets.theme_counts(ctx.session)
    return _names_or_dicts(params, [group_dict(theme, ctx.urls, counts.get(theme.code, 0))
                                    for theme in THEMES])


@action
def group_show(ctx: Context, params: Params) -> Any:
    ident = _required(params, "id")
    counts = datasets.theme_counts(ctx.session)
    for theme in THEMES:
        if ident in (theme.code, stable_id("group", theme.code)):
            return group_dict(theme, ctx.urls, counts.get(theme.code, 0))
    raise NotFoundError("Group was not found")


@action
def tag_list(ctx: Context, params: Params) -> Any:
    query = str(params.get("query") or "").strip()
    names = sorted(name for name in datasets.tag_counts(ctx.session) if query in name)
    return [tag_dict(name) for name in names] if _bool(params, "all_fields") else names


# --- datastore -------------------------------------------------------------------------------


@action
def datastore_search(ctx: Context, params: Params) -> Any:
    rid = _required(params, "resource_id")
    found = find_resource(ctx.session, rid)
    if found is None:
        raise NotFoundError(f"Resource \"{rid}\" was not found.")
    dataset = found[0]
    ctx.used(dataset)
    filters = _json(params, "filters") or {}
    if not isinstance(filters, dict):
        raise ValidationError("filters", "Must be a JSON object of field: value")
    q = _json(params, "q")
    if q is not None and not isinstance(q, str | dict):
        raise ValidationError("q", "Must be text or a JSON object of field: text")
    fields = _json(params, "fields")
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    if fields is not None and not isinstance(fields, list):
        raise ValidationError("fields", "Must be a list of field names")
    sort = _json(params, "sort")
    limit = _int(params, "limit", datastore.DEFAULT_LIMIT, 0, datastore.MAX_LIMIT)
    offset = _int(params, "offset", 0)
    try:
        found_rows = datastore.search(
            ctx.session, ctx.engine, dataset, filters=filters, q=q, fields=fields, sort=sort,
            limit=limit, offset=offset, include_total=_bool(params, "include_total", True))
    except datastore.DatastoreError as exc:
        raise ValidationError(exc.field, str(exc)) from None
    start = ctx.urls.api("datastore_search") + f"?resource_id={rid}"
    result: dict[str, Any] = {
        "resource_id": rid,
        "fields": [{"id": f.id, "type": f.type, "info": {"label": f.label}}
                   for f in found_rows.fields],
        "records": found_rows.records,
        "limit": limit,
        "offset": offset,
        "_links": {"start": start, "next": f"{start}&offset={offset + limit}"},
        "include_total": found_rows.total is not None,
        "records_format": "objects",
    }
    if found_rows.total is not None:
        result["total"] = found_rows.total
        result["total_was_estimated"] = False
    return result
