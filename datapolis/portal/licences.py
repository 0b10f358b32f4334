"""The licences datasets are opened under: an unconditionally open dataset under CC BY 4.0,
a conditionally open one (有条件开放) under the portal's own data-use agreement, which is
granted with the provider's approval of an application."""

from __future__ import annotations

from dataclasses import dataclass

from datapolis.portal.datasets import OpenKind


@dataclass(frozen=True)
class Licence:
    id: str  # CKAN's license_id
    title: str  # the English title
    title_zh: str
    url: str | None  # the licence's own page; None: the portal's page for it


LICENCES: dict[OpenKind, Licence] = {
    "unconditional": Licence("cc-by-4.0", "Creative Commons Attribution 4.0",
                             "知识共享署名 4.0 协议",
                             "https://creativecommons.org/licenses/by/4.0/"),
    "conditional": Licence("conditional-use", "Conditional open-data use agreement",
                           "有条件开放数据使用协议", None),
}


def licence_for(kind: OpenKind) -> Licence:
    return LICENCES[kind]
