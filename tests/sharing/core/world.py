"""CORE fixtures: a small city with a published, graded population resource and apps.

The city police bureau (371300_gaj) provides `ods_371300_gaj.czrk`; the county police
(371302_gaj, in 兰山区) and the city itself consume it, each through an app of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conftest import City, make_city, make_users
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog import standards
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.schemas import EntryCreate, ItemInput
from datapolis.catalog.versions import Actor
from datapolis.orgs import service as orgs_service
from datapolis.orgs.models import ApiApp, Role, User
from datapolis.registry.db import Registry
from datapolis.security.grading import scheme
from datapolis.security.grading import service as grading

ITEMS = [
    ("公民身份号码", "gmsfhm", 18, "L4"),
    ("姓名", "xm", 30, "L3"),
    ("性别", "xb", 1, "L1"),
    ("出生日期", "csrq", 10, "L2"),
    ("区县代码", "xzqh_dm", 6, "L1"),
    ("宗教信仰", "zjxy", 20, "重要"),
    ("备注", "bz", 200, None),  # never confirmed
]


@dataclass
class World:
    registry: Registry
    city: City
    users: dict[Role, User]
    county_user: User
    resource: str  # resource code of the conditional population entry
    open_resource: str  # an unconditional copy
    closed_resource: str  # 不予共享
    county_app: int
    city_app: int
    provider_app: int


def publish(session: Session, share_type: str = "conditional", name: str = "常住人口基本信息",
            heading: str = "001", **changes: Any) -> CatalogEntry:
    provider = orgs_service.get_organisation(session, "371300_gaj")
    data = EntryCreate.model_validate({
        "name": name, "catalog_type": "basic_population", "heading": heading,
        "summary": "全市常住人口的身份、户籍与联系方式信息。", "share_type": share_type,
        "share_conditions": "用于政务服务身份核验" if share_type != "unconditional" else None,
        "share_methods": ["interface"], "update_cycle": "daily",
        "warehouse_table": "ods_371300_gaj.czrk", "tags": ["人口"],
        "items": [ItemInput(name=n, column_name=c, length=length) for n, c, length, _ in ITEMS],
        **changes})
    actor = Actor("org_admin")
    entry = catalog_service.create_entry(session, data=data, provider=provider, actor=actor)
    grading.confirm(session, entry, {n: g for n, _, _, g in ITEMS if g}, actor)
    for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
        catalog_service.transition(session, entry=entry, action=action,
                                   actor=Actor("platform_admin"))
    return entry


def build(registry: Registry) -> World:
    with registry.session() as session:
        standards.seed_standards(session)
        scheme.seed_default(session)
        city = make_city(session)
        users = make_users(session, city)
        county_user = orgs_service.create_user(
            session, username="county_user", password="correct-horse-battery",
            role=Role.ORG_USER, org=city.county_dept)
        resource = publish(session).resource_code
        open_resource = publish(session, "unconditional", name="人口性别统计",
                                heading="002",
                                warehouse_table="ods_371300_gaj.rkxb").resource_code
        closed_resource = publish(session, "not_shared", name="宗教信息", heading="003",
                                  warehouse_table="ods_371300_gaj.zjxx").resource_code

        def app(org: Any) -> int:
            made: ApiApp = orgs_service.create_app(session, org=org, name="业务系统").app
            return made.id

        apps = (app(city.county_dept), app(city.city), app(city.city_dept))
    return World(registry, city, users, county_user, resource, open_resource, closed_resource,
                 *apps)
