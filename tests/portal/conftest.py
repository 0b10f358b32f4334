"""Portal fixtures: a small catalog with open, conditionally open, unpublished and closed
entries, graded and landed in a real DuckDB warehouse, on both registries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from conftest import make_city, make_users
from sqlalchemy.orm import Session

from datapolis.catalog import service, standards
from datapolis.catalog.enums import DataType
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.schemas import ItemInput
from datapolis.catalog.versions import Actor
from datapolis.registry.db import Registry
from datapolis.security.grading import service as grading
from datapolis.warehouse import DuckDBEngine
from tests.catalog.conftest import create

REVIEWER = Actor("platform_admin")

# The catalog's own grades pass the publication rules; the grades people confirm later in
# the security slice are what the public view follows (备注 is never confirmed: withheld).
BUS_ITEMS = [
    ItemInput(name="线路名称", column_name="xlmc", length=50, security_grade="L1"),
    ItemInput(name="首末站", column_name="smz", length=100, security_grade="L1"),
    ItemInput(name="驾驶员身份证号", column_name="jsysfzh", length=18, security_grade="L1"),
    ItemInput(name="备注", column_name="bz", length=200, security_grade="L1"),
    ItemInput(name="日均客流", column_name="rjkl", data_type=DataType.INTEGER,
              security_grade="L1"),
]
GRADES = {"线路名称": "L1", "首末站": "L2", "驾驶员身份证号": "L4", "日均客流": "L1"}


@dataclass
class Portal:
    registry: Registry
    engine: DuckDBEngine
    codes: dict[str, str]  # open, conditional, unpublished, closed


def publish(session: Session, code: str) -> None:
    entry = service.get_entry(session, code)
    for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
        service.transition(session, entry=entry, action=action, actor=REVIEWER)


def land(engine: DuckDBEngine) -> None:
    engine.execute("CREATE SCHEMA IF NOT EXISTS ods_371300_jtj")
    engine.write("ods_371300_jtj.gjxl", pa.table({
        "xlmc": ["1路", "2路", "K3路", "停运线"],
        "smz": ["临沂站-兰山区政府", "汽车总站-河东区", "机场-北城新区", "旧站-旧站"],
        "jsysfzh": ["371302199001011234"] * 4,
        "bz": ["夜班", None, "机场专线", "已撤销"],
        "rjkl": [12000, 8500, 3000, 0],
        "_deleted": [False, False, False, True],
    }), mode="replace")


def build(registry: Registry, engine: DuckDBEngine) -> Portal:
    with registry.session() as session:
        standards.seed_standards(session)
        city = make_city(session)
        make_users(session, city)
    common: dict[str, Any] = {"catalog_type": "department", "subject": "21",
                              "share_type": "unconditional", "share_conditions": None,
                              "update_cycle": "monthly"}
    with registry.session() as session:
        codes = {
            "open": create(session, name="公交线路信息", heading="001",
                           summary="全市公交线路的名称、首末站和日均客流。",
                           warehouse_table="ods_371300_jtj.gjxl", tags=["公交", "交通"],
                           open_to_public=True, open_conditions=None, items=BUS_ITEMS,
                           **common),
            "conditional": create(session, name="企业投资人出资统计", heading="002",
                                  summary="按行业统计的企业投资人出资情况。",
                                  warehouse_table=None, tags=["企业", "投资"],
                                  open_to_public=True, open_conditions="需申请并说明用途",
                                  items=BUS_ITEMS[:1], **common),
            "unpublished": create(session, name="公交站点信息", heading="003",
                                  warehouse_table="ods_371300_jtj.gjzd", tags=["公交"],
                                  open_to_public=True, open_conditions=None, items=BUS_ITEMS,
                                  **common),
            "closed": create(session, name="公交驾驶员信息", heading="004",
                             warehouse_table="ods_371300_jtj.gjjsy", tags=["公交"],
                             open_to_public=False, open_conditions=None, items=BUS_ITEMS,
                             **common),
        }
    with registry.session() as session:
        for name in ("open", "conditional", "closed"):
            publish(session, codes[name])
        for name in ("open", "unpublished", "closed"):
            entry = service.get_entry(session, codes[name])
            grading.confirm(session, entry, GRADES, REVIEWER)
        entry = service.get_entry(session, codes["conditional"])
        grading.confirm(session, entry, {"线路名称": "L1"}, REVIEWER)
    land(engine)
    return Portal(registry, engine, codes)


@pytest.fixture
def portal(registry: Registry, tmp_path: Path) -> Iterator[Portal]:
    """Both registries (SQLite, PostgreSQL) with the small catalog; a DuckDB warehouse."""
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    yield build(registry, engine)
    engine.close()
