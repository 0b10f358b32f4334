"""Our datasets, organisations, themes and tags as CKAN's dictionaries (field names as CKAN
2.10's package_show, organization_show, group_show and resource_show return them)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from datapolis.catalog.enums import LABELS
from datapolis.orgs.models import Organisation
from datapolis.portal import datasets
from datapolis.portal.datasets import DOWNLOAD_FORMATS, Dataset, DownloadFormat
from datapolis.portal.licences import licence_for
from datapolis.portal.themes import Theme
from datapolis.portal.urls import PortalUrls, stable_id
from datapolis.warehouse.engine import Engine


def ckan_time(moment: datetime | None) -> str | None:
    """CKAN's timestamps: UTC without a zone, microseconds, e.g. 2026-11-24T08:00:00.000000."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def resource_id(code: str, fmt: DownloadFormat) -> str:
    return stable_id("resource", f"{code}.{fmt.extension}")


@lru_cache(maxsize=4)
def _resource_index(codes: tuple[str, ...]) -> dict[str, tuple[str, DownloadFormat]]:
    return {resource_id(code, fmt): (code, fmt) for code in codes for fmt in DOWNLOAD_FORMATS}


def find_resource(session: Session, rid: str) -> tuple[Dataset, DownloadFormat] | None:
    """The open dataset and format a resource id names; None when it names none."""
    found = _resource_index(tuple(datasets.dataset_codes(session))).get(rid.strip())
    if found is None:
        return None
    dataset = datasets.get_dataset(session, found[0])
    return (dataset, found[1]) if dataset.has_data else None


def organization_dict(org: Organisation, urls: PortalUrls, count: int | None = None
                      ) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": stable_id("organization", org.code),
        "name": org.code,
        "title": org.name,
        "display_name": org.name,
        "description": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": ckan_time(org.created_at),
        "url": urls.organisation(org.code),
    }
    if count is not None:
        found["package_count"] = count
    return found


def group_dict(theme: Theme, urls: PortalUrls, count: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": stable_id("group", theme.code),
        "name": theme.code,
        "title": theme.name_zh,
        "display_name": theme.name_zh,
        "description": theme.name,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "url": urls.theme(theme.code),
    }
    if count is not None:
        found["package_count"] = count
    return found


def tag_dict(name: str) -> dict[str, Any]:
    return {"id": stable_id("tag", name), "name": name, "display_name": name,
            "state": "active", "vocabulary_id": None}


def resource_dict(dataset: Dataset, fmt: DownloadFormat, urls: PortalUrls, position: int
                  ) -> dict[str, Any]:
    return {
        "id": resource_id(dataset.code, fmt),
        "package_id": stable_id("package", dataset.code),
        "name": f"{dataset.name}（{fmt.name}）",
        "description": dataset.entry.summary or "",
        "format": fmt.name,
        "mimetype": fmt.media_type,
        "url": urls.download(dataset.code, fmt),
        "url_type": None,
        "position": position,
        "state": "active",
        "created": ckan_time(dataset.entry.created_at),
        "last_modified": ckan_time(dataset.entry.updated_at),
        "metadata_modified": ckan_time(dataset.entry.updated_at),
        "datastore_active": True,  # every format reads the same table: all are queryable
        "size": None,
        "hash": "",
    }


def package_dict(dataset: Dataset, urls: PortalUrls, *, session: Session | None = None,
                 engine: Engine | None = None) -> dict[str, Any]:
    """The package; with `session` and `engine`, also the row count, last update and quality
    score (what package_show adds; search results leave them out)."""
    entry = dataset.entry
    licence = licence_for(dataset.open_kind)
    tags = [tag_dict(tag) for tag in entry.tags or []]
    resources = [resource_dict(dataset, fmt, urls, n) for n, fmt in enumerate(dataset.formats)]
    extras = {
        "resource_code": entry.resource_code,
        "update_cycle": entry.update_cycle.value,
        "update_cycle_label": LABELS[entry.update_cycle],
        "open_kind": dataset.open_kind,
        "open_conditions": entry.open_conditions or "",
        "catalog_type": entry.catalog_type.value,
        "format_class": entry.format_class.value,
        "publish_date": entry.publish_date.isoformat() if entry.publish_date else "",
    }
    if session is not None and engine is not None:
        rows = datasets.row_count(session, engine, dataset)
        score = datasets.quality_score(session, dataset)
        extras["row_count"] = "" if rows is None else str(rows)
        extras["last_update"] = ckan_time(datasets.last_update(session, dataset)) or ""
        extras["quality_score"] = "" if score is None else f"{score:g}"
    return {
        "id": stable_id("package", entry.resource_code),
        "name": dataset.slug,
        "title": entry.name,
        "notes": entry.summary or "",
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": dataset.open_kind == "unconditional",
        "license_id": licence.id,
        "license_title": licence.title_zh,
        "license_url": licence.url or urls.licence(licence.id),
        "author": entry.provider.name,
        "author_email": None,
        "maintainer": entry.provider.name,
        "maintainer_email": None,
        "url": urls.dataset(entry.resource_code),
        "version": None,
        "metadata_created": ckan_time(entry.created_at),
        "metadata_modified": ckan_time(entry.updated_at),
        "owner_org": stable_id("organization", entry.provider.code),
        "organization": organization_dict(entry.provider, urls),
        "groups": [group_dict(dataset.theme, urls)],
        "tags": tags,
        "num_tags": len(tags),
        "resources": resources,
        "num_resources": len(resources),
        "extras": [{"key": key, "value": value} for key, value in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
