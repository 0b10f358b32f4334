"""Chinese by default, English on request; every msgid in the code has a Chinese translation."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from datapolis.web import app as web_app
from datapolis.web import catalog, i18n
from web.forms import HTML, login


def test_pages_are_chinese_by_default(client: TestClient) -> None:
    page = client.get("/login", headers=HTML)
    assert page.status_code == 200
    assert '<html lang="zh-Hans-CN">' in page.text
    assert "临沂市一体化大数据平台" in page.text
    assert "用户名" in page.text
    assert page.headers["content-language"] == "zh-Hans-CN"
    assert "cookie" in page.headers["vary"].lower()
    assert "content-language" not in client.get("/static/css/app.css").headers


def test_switching_to_english_changes_the_page_text(client: TestClient) -> None:
    login(client, "platform_admin")
    switch = client.get("/lang/en", params={"next": "/"}, headers=HTML, follow_redirects=False)
    assert switch.status_code == 303
    assert switch.headers["location"] == "/"
    assert "datapolis_lang=en" in switch.headers["set-cookie"]
    page = client.get("/", headers=HTML)
    assert '<html lang="en">' in page.text
    assert "Platform overview" in page.text
    assert "Linyi Integrated Big Data Platform" in page.text
    assert "平台概览" not in page.text
    back = client.get("/lang/zh_Hans_CN", headers=HTML)
    assert "平台概览" in back.text


def test_language_switch_returns_only_to_local_paths(client: TestClient) -> None:
    for target in ("https://evil.com/", "//evil.com", "/\\evil.com"):
        response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"
    kept = client.get("/lang/en", params={"next": "/orgs?q=1"}, follow_redirects=False)
    assert kept.headers["location"] == "/orgs?q=1"
    # Without `next`, back to the referring page of this site, never another site's.
    here = {"Referer": "https://testserver/users?page=2"}
    assert client.get("/lang/en", headers=here, follow_redirects=False).headers["location"] == (
        "/users?page=2"
    )
    there = {"Referer": "https://evil.com/users"}
    assert client.get("/lang/en", headers=there, follow_redirects=False).headers["location"] == "/"


def test_unknown_language_is_not_found(client: TestClient) -> None:
    response = client.get("/lang/xx", follow_redirects=False)
    assert response.status_code == 404
    assert "datapolis_lang" not in response.headers.get("set-cookie", "")


def test_configured_default_locale_applies_without_a_cookie(app: FastAPI) -> None:
    english = web_app.create_app(
        app.state.settings.model_copy(update={"default_locale": "en"}), app.state.registry
    )
    with TestClient(english, base_url="https://testserver") as client:
        assert "Username" in client.get("/login", headers=HTML).text


def test_python_side_messages_follow_the_chosen_language(client: TestClient) -> None:
    assert "用户名或密码错误。" in login(client, "org_user", password="wrong-password").text
    client.get("/lang/en")
    assert "Wrong username or password." in login(client, "org_user", password="wrong").text


def test_every_msgid_has_a_chinese_translation() -> None:
    """Extracts every msgid (templates: `_()`; Python: `_()`, `N_()`, `gettext(request, …)`).

    When this fails, run `python -m datapolis.web.catalog` and fill in the empty msgstr lines
    of datapolis/web/translations/zh_Hans_CN/LC_MESSAGES/messages.po (see docs/web.md).
    """
    template = catalog.extract_messages()
    assert len(template) > 20  # the extraction itself works
    missing = catalog.check()["zh_Hans_CN"]
    assert not missing, "untranslated msgids:\n" + "\n".join(missing)


def test_every_menu_entry_has_a_chinese_translation() -> None:
    """Menu labels are msgids too, even where a slice forgot to mark them with N_()."""
    chinese = i18n.translations_for("zh_Hans_CN")
    untranslated = [
        item.label for item in web_app.NAV if chinese.gettext(item.label) == item.label
    ]
    assert untranslated == []
