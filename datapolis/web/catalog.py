"""Keeping the translation catalog complete.

`python -m datapolis.web.catalog` extracts every msgid (templates and Python, as listed in
translations/babel.cfg), writes translations/messages.pot, merges new msgids into each
locale's messages.po (empty, for a translator) and lists the ones still untranslated; with
`--check` it changes nothing and exits 1 when any msgid lacks a translation.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from datapolis.web.i18n import DOMAIN, LOCALES, TRANSLATIONS_DIR, po_path

REPO_ROOT = TRANSLATIONS_DIR.parent.parent.parent
BABEL_CFG = TRANSLATIONS_DIR / "babel.cfg"
POT_PATH = TRANSLATIONS_DIR / f"{DOMAIN}.pot"
SOURCE_LOCALE = "en"
JINJA_METHOD = "jinja2.ext:babel_extract"
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
# Sorted by msgid, without line numbers: concurrent edits in different slices merge cleanly.
WRITE_OPTIONS: dict[str, Any] = {"width": 100, "sort_output": True, "include_lineno": False}

# Templates call `_()` / `gettext()` / `ngettext()`; Python marks msgids with `_()` or `N_()`
# and translates with `gettext(request, msgid)` / `ngettext(request, singular, plural, n)`.
KEYWORDS: dict[str, Mapping[str, tuple[int, ...] | None]] = {
    "jinja2": {"_": None, "gettext": None, "ngettext": (1, 2)},
    "python": {"_": None, "N_": None, "gettext": (2,), "ngettext": (2, 3)},
}


def _method_maps() -> list[tuple[str, list[tuple[str, str]], dict[str, dict[str, str]]]]:
    with BABEL_CFG.open(encoding="utf-8") as config:
        parsed = parse_mapping_cfg(config, str(BABEL_CFG))  # type: ignore[no-untyped-call]
    method_map, options_map = parsed
    maps = []
    for pattern, method in method_map:
        maps.append((method, [(pattern, method)], {pattern: options_map[pattern]}))
    return maps


def extract_messages() -> Catalog:
    """Every msgid in the code base, with the places it is used."""
    catalog = Catalog(
        locale=None,
        domain=DOMAIN,
        project="Datapolis",
        copyright_holder="Datapolis contributors",
        creation_date=STABLE_DATE,  # a fixed header keeps re-extraction from touching git
        revision_date=STABLE_DATE,
        fuzzy=False,
    )
    for method, method_map, options_map in _method_maps():
        runnable = [(pattern, JINJA_METHOD if m == "jinja2" else m) for pattern, m in method_map]
        found = extract_from_dir(
            REPO_ROOT, runnable, options_map, keywords=KEYWORDS[method],
            directory_filter=lambda path: not Path(path).name.startswith((".", "node_modules")),
        )
        for filename, lineno, message, comments, context in found:
            catalog.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
    return catalog


def read_catalog(code: str) -> Catalog:
    with po_path(code).open("rb") as source:
        return read_po(source, locale=code, domain=DOMAIN)


def untranslated(template: Catalog, translated: Catalog) -> list[str]:
    """msgids of `template` that `translated` lacks or leaves empty or fuzzy."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = translated.get(message.id, message.context)
        string = None if found is None else found.string
        strings = string if isinstance(string, tuple) else (string,)
        if found is None or found.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def target_locales() -> list[str]:
    return [option.code for option in LOCALES if option.code != SOURCE_LOCALE]


def update() -> dict[str, list[str]]:
    template = extract_messages()
    with POT_PATH.open("wb") as target:
        write_po(target, template, **WRITE_OPTIONS)
    missing: dict[str, list[str]] = {}
    for code in target_locales():
        catalog = read_catalog(code) if po_path(code).is_file() else Catalog(locale=code)
        catalog.update(template, no_fuzzy_matching=True)
        po_path(code).parent.mkdir(parents=True, exist_ok=True)
        with po_path(code).open("wb") as target:
            write_po(target, catalog, ignore_obsolete=True, **WRITE_OPTIONS)
        missing[code] = untranslated(template, catalog)
    return missing


def check() -> dict[str, list[str]]:
    template = extract_messages()
    return {code: untranslated(template, read_catalog(code)) for code in target_locales()}


def main(argv: list[str]) -> int:
    missing = check() if "--check" in argv else update()
    for code, msgids in missing.items():
        for msgid in msgids:
            print(f"{po_path(code).relative_to(REPO_ROOT)}: untranslated: {msgid!r}")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
