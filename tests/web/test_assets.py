"""Vendor assets come from node_modules (npm ci), copied by `python -m datapolis.web.assets`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datapolis.web.assets import ASSETS, REPO_ROOT, AssetsMissing, copy_assets


def test_copies_each_pinned_file(tmp_path: Path) -> None:
    node_modules = tmp_path / "node_modules"
    for source in ASSETS:
        (node_modules / source).parent.mkdir(parents=True, exist_ok=True)
        (node_modules / source).write_text(f"/* {source} */")
    copied = copy_assets(node_modules, tmp_path / "vendor")
    assert sorted(path.name for path in copied) == sorted(ASSETS.values())
    assert (tmp_path / "vendor" / "htmx.min.js").read_text() == "/* htmx.org/dist/htmx.min.js */"


def test_missing_node_modules_says_to_run_npm_ci(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing, match="run `npm ci`"):
        copy_assets(tmp_path / "node_modules", tmp_path / "vendor")
    assert not (tmp_path / "vendor").exists()


def test_npm_versions_are_exact_and_locked() -> None:
    manifest = json.loads((REPO_ROOT / "package.json").read_text())
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    for name, version in manifest["dependencies"].items():
        assert version[0].isdigit(), f"{name} must be pinned exactly, not {version!r}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert {source.split("/")[0] for source in ASSETS} <= set(manifest["dependencies"])
