"""Return-to addresses stay on this site."""

from __future__ import annotations

import pytest

from datapolis.web.urls import local_path


@pytest.mark.parametrize(
    "target", ["/", "/orgs", "/orgs/371300?tab=users#top", "/search?q=%2F%2Fevil.com"]
)
def test_local_paths_are_kept(target: str) -> None:
    assert local_path(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "orgs",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "/\n/evil.com",
        "https://evil.com/",
        "HTTPS://evil.com",
        "javascript:alert(1)",
        "data:text/html,hi",
    ],
)
def test_other_places_fall_back_to_the_default(target: str | None) -> None:
    assert local_path(target) == "/"
    assert local_path(target, default="/login") == "/login"
