"""What each role may do. Routes declare a Permission; roles are sets of permissions."""

from __future__ import annotations

import enum

from datapolis.orgs.models import Role


class Permission(enum.StrEnum):
    VIEW_PLATFORM = "platform.view"  # home page, key numbers, own profile
    READ_ORGS = "orgs.read"
    MANAGE_ORGS = "orgs.manage"
    READ_USERS = "users.read"
    MANAGE_USERS = "users.manage"
    MANAGE_APPS = "apps.manage"
    READ_METRICS = "system.metrics"
    READ_AUDIT = "audit.read"
    READ_SOURCES = "sources.read"  # the data highway: sources, jobs, runs
    MANAGE_SOURCES = "sources.manage"  # run a department's sync jobs by hand
    READ_CATALOG = "catalog.read"  # published entries, own organisation's drafts, standards
    EDIT_CATALOG = "catalog.edit"  # create and edit own organisation's drafts, map items
    SUBMIT_CATALOG = "catalog.submit"  # send own organisation's drafts for review
    REVIEW_CATALOG = "catalog.review"  # the bureau: approve, reject, publish, retire; all entries
    MANAGE_FIELD_ENCRYPTION = "security.fields"  # the bureau: protect columns, rotate field keys
    READ_PROTECTED = "security.decrypt"  # read protected warehouse columns in the clear
    READ_QUALITY = "quality.read"  # rules, runs and results of own organisation's tables
    MANAGE_QUALITY = "quality.manage"  # define rules and run checks (custom SQL: platform admin)
    MANAGE_GOVERNANCE = "governance.build"  # the bureau: rebuild std tables and base libraries
    READ_ISSUES = "quality.issues"  # quality issues (问题工单) of own organisation; bureau: all
    RECTIFY_QUALITY = "quality.rectify"  # move own organisation's issues (acknowledge … submit)
    GRADE_FIELDS = "security.grade"  # confirm field grades and categories of own org's entries
    MANAGE_SCHEME = "security.scheme"  # the bureau: edit the classification scheme
    MONITOR_SHARING = "sharing.monitor"  # the bureau: all interface calls, alerts, acknowledge
    READ_SHARING_USAGE = "sharing.usage"  # own organisation's calls (as consumer or provider)
    APPLY_SHARING = "sharing.apply"  # apply for published resources; own org's applications
    APPROVE_SHARING = "sharing.approve"  # decide applications for own org's resources; revoke
    MANAGE_GRANTS = "sharing.grants"  # the bureau: second review, every grant, revoke any


_EVERYONE = {Permission.VIEW_PLATFORM, Permission.READ_ORGS, Permission.READ_CATALOG}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(Permission) - {Permission.READ_AUDIT},
    Role.ORG_ADMIN: frozenset(
        _EVERYONE
        | {Permission.READ_USERS, Permission.MANAGE_USERS, Permission.MANAGE_APPS}
        | {Permission.READ_SOURCES, Permission.MANAGE_SOURCES}
        | {Permission.READ_QUALITY, Permission.MANAGE_QUALITY}
        | {Permission.READ_ISSUES, Permission.RECTIFY_QUALITY}
        | {Permission.EDIT_CATALOG, Permission.SUBMIT_CATALOG, Permission.GRADE_FIELDS}
        | {Permission.READ_SHARING_USAGE}
        | {Permission.APPLY_SHARING, Permission.APPROVE_SHARING}
    ),
    Role.ORG_USER: frozenset(
        _EVERYONE
        | {Permission.EDIT_CATALOG, Permission.GRADE_FIELDS}
        | {Permission.READ_ISSUES, Permission.RECTIFY_QUALITY}
        | {Permission.READ_SHARING_USAGE, Permission.APPLY_SHARING}
    ),
    Role.AUDITOR: frozenset(
        _EVERYONE
        | {Permission.READ_USERS, Permission.READ_AUDIT, Permission.READ_METRICS}
        | {Permission.READ_SOURCES, Permission.READ_QUALITY, Permission.READ_ISSUES}
    ),
}

# What an API app may do with its own bearer token, before any data grant (issue #8) applies.
APP_PERMISSIONS: frozenset[Permission] = frozenset({Permission.READ_ORGS})


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
