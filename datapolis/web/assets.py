"""Copy the pinned browser libraries from node_modules/ into build/vendor/, served at
/static/vendor/.

Run `npm ci` first (package.json pins exact versions, package-lock.json is committed), then
`python -m datapolis.web.assets`. The copies are build output: they live outside the package
source (in the git-ignored build/ folder), so the package holds only code we wrote.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
REPO_ROOT = WEB_DIR.parent.parent
VENDOR_DIR = REPO_ROOT / "build" / "vendor"

# node_modules path -> name under static/vendor/
ASSETS: dict[str, str] = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "echarts/dist/echarts.min.js": "echarts.min.js",
    # /docs is served from here too: no CDN at run time (bureau networks are often closed).
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
}


class AssetsMissing(Exception):
    """node_modules/ lacks a file: `npm ci` has not been run (or package.json changed)."""


def copy_assets(
    node_modules: Path = REPO_ROOT / "node_modules", target: Path = VENDOR_DIR
) -> list[Path]:
    missing = [name for name in ASSETS if not (node_modules / name).is_file()]
    if missing:
        raise AssetsMissing(
            f"{node_modules / missing[0]} not found; run `npm ci` in {node_modules.parent} first"
        )
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for source, name in ASSETS.items():
        copied.append(Path(shutil.copyfile(node_modules / source, target / name)))
    return copied


def main() -> int:
    try:
        copied = copy_assets()
    except AssetsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in copied:
        print(f"copied {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
