"""Every route of the real app declares who may call it, and that declaration is enforced.

Each APIRoute must carry exactly one `requires(Permission.X)` or `public` in its dependency
tree. For every non-public route: an anonymous call gets 401; a caller lacking the permission
gets 403, both with a bearer token and with a session cookie; and, as a control, a caller that
holds the permission gets neither (so the 403 is the permission check, not something else).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import pytest
from conftest import TEST_SECRET_KEY, make_city, make_users
from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from datapolis.config import Settings
from datapolis.orgs import service
from datapolis.orgs.deps import CSRF_HEADER, SESSION_COOKIE, public, requires
from datapolis.orgs.models import Role
from datapolis.orgs.permissions import APP_PERMISSIONS, ROLE_PERMISSIONS, Permission
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.web.app import create_app

# Routes FastAPI and the static mount add on their own; they are public by nature.
KNOWN_PUBLIC = {"/openapi.json", "/static", "/static/vendor"}

TARGET_ORG = "371302_gaj"
TARGET_USER = "target_user"
# Plausible values for path parameters; objects that exist, and that a control call may change.
PATH_VALUES: dict[str, str] = {"code": TARGET_ORG, "username": TARGET_USER}


# --- finding the declaration ---------------------------------------------------------------


def declarations(dependant: Dependant) -> list[object]:
    """The distinct `requires(...)` instances and `public` markers anywhere in the tree."""
    found: dict[int, object] = {}

    def walk(node: Dependant) -> None:
        for sub in node.dependencies:
            if isinstance(sub.call, requires) or sub.call is public:
                found[id(sub.call)] = sub.call
            walk(sub)

    walk(dependant)
    return list(found.values())


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    declared: list[object]
    api_route: bool

    @property
    def permission(self) -> Permission | None:
        (declaration,) = self.declared
        return declaration.permission if isinstance(declaration, requires) else None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def route_table(routes: list[BaseRoute]) -> list[RouteInfo]:
    table = []
    for context in iter_route_contexts(routes):
        is_api = isinstance(context.original_route, APIRoute)
        declared = declarations(context.dependant) if is_api else []
        for method in sorted(context.methods or {"*"}):
            if method != "HEAD":
                table.append(RouteInfo(method, context.path or "", declared, is_api))
    return table


def declaration_problems(table: list[RouteInfo]) -> list[str]:
    problems = []
    for route in table:
        if not route.api_route:
            if route.path not in KNOWN_PUBLIC:
                problems.append(f"{route.id}: not an APIRoute, so it cannot declare requires()")
        elif len(route.declared) != 1:
            problems.append(
                f"{route.id}: declares {len(route.declared)} of requires(...)/public, "
                "needs exactly one"
            )
    return problems


def _collection_app() -> FastAPI:
    # Built at import time only to enumerate routes for parametrisation; tests use their own.
    settings = Settings(env="test", secret_key=TEST_SECRET_KEY)
    return create_app(settings, open_registry("sqlite://"))


ROUTES = route_table(_collection_app().routes)
GUARDED = [r for r in ROUTES if r.api_route and len(r.declared) == 1 and r.permission is not None]


def test_every_route_declares_exactly_one_permission_or_public() -> None:
    problems = declaration_problems(ROUTES)
    assert not problems, "routes without a clear permission declaration:\n" + "\n".join(problems)
    assert GUARDED, "no guarded routes found; is the route walk broken?"


def test_the_check_catches_undeclared_and_doubly_declared_routes() -> None:
    router = APIRouter()

    @router.get("/undeclared")
    def undeclared() -> None: ...

    @router.get(
        "/twice",
        dependencies=[Depends(requires(Permission.READ_ORGS)), Depends(public)],
    )
    def twice() -> None: ...

    @router.get("/fine", dependencies=[Depends(requires(Permission.READ_ORGS))])
    def fine() -> None: ...

    app = FastAPI(docs_url=None, redoc_url=None)  # as in create_app
    app.include_router(router)
    problems = declaration_problems(route_table(app.routes))
    assert sorted(p.split(":")[0] for p in problems) == ["GET /twice", "GET /undeclared"]


# --- calling every guarded route -----------------------------------------------------------


@dataclass
class World:
    client: TestClient
    app_key: str
    bearer: Callable[[Role | None], dict[str, str]]  # None: an API app's token
    session: Callable[[Role], dict[str, str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("route-permissions")
    settings = Settings(env="test", home=home / "var", secret_key=TEST_SECRET_KEY)
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    migrate.upgrade(registry)
    with registry.session() as session:
        city = make_city(session)
        make_users(session, city)
        service.create_user(
            session, username=TARGET_USER, password="target-password", role=Role.ORG_USER,
            org=city.county_dept,
        )
        app_key = service.create_app(session, org=city.county_dept, name="target").app.app_key
        caller_app = service.create_app(session, org=city.city_dept, name="caller").app.app_key

    def token(kind: str, role: Role | None) -> tuple[str, str | None]:
        # Fresh per call: a control call to /logout or /auth/revoke must not spoil the next one.
        with registry.session() as session:
            if role is None:
                issued = service.issue_token(
                    session, kind=kind, lifetime=timedelta(hours=1),
                    app=service.get_app(session, caller_app),
                )
            else:
                issued = service.issue_token(
                    session, kind=kind, lifetime=timedelta(hours=1),
                    user=service.get_user(session, role.value),
                )
            return issued.token, issued.record.csrf_token

    def bearer(role: Role | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token('bearer', role)[0]}"}

    def cookie(role: Role) -> dict[str, str]:
        value, csrf = token("session", role)
        # The right CSRF token goes along, so a 403 can only be the permission check.
        return {"Cookie": f"{SESSION_COOKIE}={value}", CSRF_HEADER: csrf or ""}

    app = create_app(settings, registry)
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        yield World(client, app_key, bearer, cookie)
    registry.close()


def _call(world: World, route: RouteInfo, headers: dict[str, str] | None = None) -> httpx.Response:
    values = {**PATH_VALUES, "app_key": world.app_key}
    path = route.path
    for name in _path_params(path):
        path = path.replace("{" + name + "}", values.get(name.split(":")[0], "1"))
    body: dict[str, Any] = {"json": {}} if route.method in {"POST", "PUT", "PATCH"} else {}
    return world.client.request(route.method, path, headers=headers or {}, **body)


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _lacking(permission: Permission) -> Role | None:
    return next((role for role in Role if permission not in ROLE_PERMISSIONS[role]), None)


def _holding(permission: Permission) -> Role:
    return next(role for role in Role if permission in ROLE_PERMISSIONS[role])


def _assert_refused(response: httpx.Response, permission: Permission, who: str) -> None:
    assert response.status_code == 403, f"{who}: {response.status_code} {response.text[:200]}"
    assert response.json()["detail"] == f"permission {permission.value} required"


def _assert_allowed(response: httpx.Response, who: str) -> None:
    assert response.status_code not in (401, 403), f"{who} was refused: {response.text[:200]}"


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: r.id)
def test_anonymous_call_gets_401(world: World, route: RouteInfo) -> None:
    response = _call(world, route)
    assert response.status_code == 401, response.text[:200]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: r.id)
def test_bearer_without_permission_gets_403(world: World, route: RouteInfo) -> None:
    permission = route.permission
    assert permission is not None
    role = _lacking(permission)
    if role is None:
        # Every role holds it: only an API app's token can lack it.
        if permission in APP_PERMISSIONS:
            # No caller can lack it; prove instead that every kind of caller gets in.
            _assert_allowed(_call(world, route, world.bearer(None)), "an API app")
            return
        _assert_refused(_call(world, route, world.bearer(None)), permission, "an API app")
    else:
        _assert_refused(_call(world, route, world.bearer(role)), permission, role.value)
    holder = _holding(permission)
    _assert_allowed(_call(world, route, world.bearer(holder)), holder.value)


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: r.id)
def test_session_without_permission_gets_403(world: World, route: RouteInfo) -> None:
    permission = route.permission
    assert permission is not None
    role = _lacking(permission)
    if role is None:
        # Every role holds it and sessions belong to users only: every session gets in.
        for everyone in Role:
            _assert_allowed(_call(world, route, world.session(everyone)), f"{everyone} (session)")
        return
    _assert_refused(_call(world, route, world.session(role)), permission, f"{role} (session)")
    holder = _holding(permission)
    _assert_allowed(_call(world, route, world.session(holder)), f"{holder} (session)")


def test_routes_of_every_permission_are_covered() -> None:
    """A guard against the parametrisation silently shrinking (e.g. the walk finding nothing)."""
    covered = {route.permission for route in GUARDED}
    assert {Permission.VIEW_PLATFORM, Permission.READ_ORGS, Permission.MANAGE_ORGS,
            Permission.READ_USERS, Permission.MANAGE_USERS, Permission.MANAGE_APPS} <= covered
