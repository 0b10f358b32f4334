"""Navigation entries. Each slice contributes the pages it really has; the menu shows a user
only the entries their role may open."""

from __future__ import annotations

from dataclasses import dataclass

from datapolis.orgs.permissions import Permission


@dataclass(frozen=True)
class NavItem:
    label: str  # English msgid; translated when rendered
    path: str
    permission: Permission
    icon: str = ""
