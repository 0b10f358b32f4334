"""The portal's public addresses: one base URL, stable paths and identifiers built on it.

The base is the `portal_base_url` setting, or else the address the request came to. Every
IRI of the DCAT graph and every link in a CKAN answer is made here, so they always agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request

from datapolis.config import Settings
from datapolis.portal.datasets import DownloadFormat, slug_of

# Identifiers CKAN clients expect to be UUIDs: stable, derived from our codes.
NAMESPACE = uuid.UUID("6c1f0f4e-4a57-5d1e-9a55-6d6174610901")


def stable_id(kind: str, code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{code}"))


@dataclass(frozen=True)
class PortalUrls:
    base: str  # no trailing slash

    @classmethod
    def of(cls, request: Request, settings: Settings) -> PortalUrls:
        return cls((settings.portal_base_url or str(request.base_url)).rstrip("/"))

    def url(self, path: str) -> str:
        return self.base + path

    def catalog(self) -> str:
        return self.url("/catalog")

    def dataset(self, code: str) -> str:
        return self.url(f"/dataset/{slug_of(code)}")

    def dataset_iri(self, code: str) -> str:
        """The dataset itself (dcat:Dataset); its page is `dataset`."""
        return self.url(f"/id/dataset/{slug_of(code)}")

    def download(self, code: str, fmt: DownloadFormat) -> str:
        return self.url(f"/dataset/{slug_of(code)}/download.{fmt.extension}")

    def distribution(self, code: str, fmt: DownloadFormat) -> str:
        return self.url(f"/id/dataset/{slug_of(code)}/{fmt.extension}")

    def organisation(self, code: str) -> str:
        return self.url(f"/organization/{code}")

    def theme(self, code: str) -> str:
        return self.url(f"/theme/{code}")

    def themes(self) -> str:
        return self.url("/theme")

    def licence(self, code: str) -> str:
        return self.url(f"/licence/{code}")

    def api(self, action: str) -> str:
        return self.url(f"/api/3/action/{action}")
