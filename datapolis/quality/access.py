"""Who may see or change the quality of which table.

The bureau (platform admins) and auditors see every table; a department sees the tables of its
own landing schema (`ods_<org code>`). Custom SQL rules are for platform admins only: their
text runs as written (after parsing) against the whole warehouse.
"""

from __future__ import annotations

from datapolis.errors import NotFound
from datapolis.orgs.deps import Principal
from datapolis.orgs.models import Role
from datapolis.warehouse.engine import TableName
from datapolis.warehouse.layers import ods_schema

_WHOLE_PLATFORM = (Role.PLATFORM_ADMIN, Role.AUDITOR)


def is_admin(principal: Principal) -> bool:
    return principal.user is not None and principal.user.role == Role.PLATFORM_ADMIN


def may_see(principal: Principal, table: str) -> bool:
    if principal.user is not None and principal.user.role in _WHOLE_PLATFORM:
        return True
    return TableName.parse(table).schema == ods_schema(principal.org.code)


def check_table(principal: Principal, table: str) -> str:
    """`table` when the caller may see it; otherwise 404, as if it did not exist (a name that
    is not schema.table: 400)."""
    TableName.parse(table)
    if not may_see(principal, table):
        raise NotFound(f"no quality records for table {table}")
    return table
