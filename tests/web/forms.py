"""Helpers for driving the web UI the way a browser does: HTML accept header, form posts."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx2 as httpx
from conftest import PASSWORD
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml"}


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert match is not None, "no csrf_token field on the page"
    return match.group(1)


def login(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> httpx.Response:
    """Open the login form and submit it, as a browser would; the redirect is not followed."""
    page = client.get("/login", headers=HTML)
    assert page.status_code == 200
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": next_path,
            "csrf_token": form_token(page.text),
        },
        headers=HTML,
        follow_redirects=False,
    )


def session_csrf(client: TestClient) -> str:
    """The logged-in session's CSRF token, as the page chrome hands it out."""
    home = client.get("/", headers=HTML)
    assert home.status_code == 200, home.text
    return form_token(home.text)


def chart_option(page: str, element_id: str) -> dict[str, Any]:
    """The ECharts option of the chart `element_id` on a page (see datapolis/web/charts.py)."""
    match = re.search(rf'id="{element_id}" data-chart-option="([^"]*)"', page)
    assert match is not None, f"no chart {element_id}"
    option: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return option
