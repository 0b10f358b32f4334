"""Rendering pages: one Jinja environment, translated per request, with the page chrome."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

SHOWN_ZONE = ZoneInfo("Asia/Shanghai")  # stored in UTC, shown in the city's time


def local_time(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC time as the city's clock reads it (the `local_time` template filter)."""
    return moment.astimezone(SHOWN_ZONE).strftime(pattern) if moment else "—"


def templates(request: Request) -> Jinja2Templates:
    value: Jinja2Templates = request.app.state.templates
    return value


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render `template` (which extends base.html) with the chrome every page needs."""
    chrome: dict[str, Any] = request.app.state.page_context(request)
    return templates(request).TemplateResponse(
        request, template, {**chrome, **(context or {})}, status_code=status_code
    )


def fragment(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    """Render a part of a page for htmx to swap in (its forms get the chrome's CSRF token);
    never cached."""
    chrome: dict[str, Any] = request.app.state.page_context(request)
    response = templates(request).TemplateResponse(
        request, template, {"csrf_token": chrome["csrf_token"], **context})
    response.headers["Cache-Control"] = "no-store"
    return response
