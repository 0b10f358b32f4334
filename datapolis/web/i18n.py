"""Translations: English msgids, a Babel catalog per locale, chosen per request.

The `.po` files are the only source; they are compiled in memory when the process starts, so
no `.mo` build output lives in the repository. Simplified Chinese is the default UI language.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import FastAPI
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
LANG_COOKIE = "datapolis_lang"
DEFAULT_LOCALE = "zh_Hans_CN"


@dataclass(frozen=True)
class LocaleOption:
    code: str  # catalog folder name, also the cookie value
    label: str  # shown in the switcher, in its own language
    html_lang: str  # BCP 47 tag for <html lang> and Content-Language


LOCALES: list[LocaleOption] = [
    LocaleOption("zh_Hans_CN", "中文", "zh-Hans-CN"),
    LocaleOption("en", "English", "en"),
]
LOCALE_CODES = frozenset(option.code for option in LOCALES)


def N_(msgid: str) -> str:
    """Mark `msgid` for extraction where it is translated later (menu labels, enum labels)."""
    return msgid


def po_path(code: str) -> Path:
    return TRANSLATIONS_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations_for(code: str) -> NullTranslations:
    """The compiled catalog of `code`; English (the msgid language) needs none."""
    path = po_path(code)
    if code not in LOCALE_CODES or not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current_locale(request: HTTPConnection) -> str:
    code = request.scope.get("state", {}).get("locale")
    if isinstance(code, str):
        return code
    settings = getattr(request.app.state, "settings", None)
    return settings.default_locale if settings is not None else DEFAULT_LOCALE


def html_lang(code: str) -> str:
    return next((o.html_lang for o in LOCALES if o.code == code), code.replace("_", "-"))


def gettext(request: HTTPConnection, msgid: str, **variables: Any) -> str:
    """Translate a Python-side message (flash, error) into the request's language."""
    text = translations_for(current_locale(request)).gettext(msgid)
    return text % variables if variables else text


def ngettext(
    request: HTTPConnection, singular: str, plural: str, num: int, **variables: Any
) -> str:
    text = translations_for(current_locale(request)).ngettext(singular, plural, num)
    return text % {"num": num, **variables}


# --- Jinja: `_()`, `gettext()` and `ngettext()` translate with the rendering request --------


def _translations(context: Context) -> NullTranslations:
    request = context.get("request")
    code = current_locale(request) if request is not None else DEFAULT_LOCALE
    return translations_for(code)


@pass_context
def _jinja_gettext(context: Context, msgid: str) -> str:
    return _translations(context).gettext(msgid)


@pass_context
def _jinja_ngettext(context: Context, singular: str, plural: str, num: int) -> str:
    return _translations(context).ngettext(singular, plural, num)


def install(env: Environment) -> None:
    """Add jinja2.ext.i18n with new-style (`%(name)s`, autoescaped) per-request callables."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _jinja_gettext, _jinja_ngettext, newstyle=True
    )


# --- choosing the locale: cookie, else the configured default ------------------------------


class LocaleMiddleware:
    """Puts the request's locale in `request.state.locale` and answers with Content-Language."""

    def __init__(self, app: ASGIApp, default_locale: str = DEFAULT_LOCALE) -> None:
        self.app = app
        self.default_locale = default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        chosen = HTTPConnection(scope).cookies.get(LANG_COOKIE)
        code = chosen if chosen in LOCALE_CODES else self.default_locale
        scope.setdefault("state", {})["locale"] = code

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Only pages change with the language; static files and JSON stay cacheable.
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Language", html_lang(code))
                    headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_with_language)


def add_middleware(app: FastAPI, default_locale: str = DEFAULT_LOCALE) -> None:
    app.add_middleware(LocaleMiddleware, default_locale=default_locale)
