from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from stdnum.cn import ric

from datapolis.catalog.models import CodeTable, CodeValue
from datapolis.demo import CITY, seed_registry
from datapolis.demo.city import DEMO_PASSWORDS, birth_division
from datapolis.orgs.models import Organisation, OrgKind, Role, User
from datapolis.orgs.service import authenticate_user
from datapolis.registry import migrate, open_registry

REAL_CODES = {
    "371302": "兰山区", "371311": "罗庄区", "371312": "河东区", "371321": "沂南县",
    "371322": "郯城县", "371323": "沂水县", "371324": "兰陵县", "371325": "费县",
    "371326": "平邑县", "371327": "莒南县", "371328": "蒙阴县", "371329": "临沭县",
}


def test_city_data_uses_real_division_codes_and_statistical_street_numbering() -> None:
    assert {c.code: c.name for c in CITY.counties} == REAL_CODES
    for county in CITY.counties:
        assert 4 <= len(county.streets) <= 8
        for street in county.streets:
            assert street.code.startswith(county.code) and len(street.code) == 9
            number = int(street.code[6:])
            assert (1 <= number <= 99) if street.name.endswith("街道") else (100 <= number <= 199)
    lanshan = CITY.county("371302")
    assert [s.name for s in lanshan.streets][:2] == ["兰山街道", "银雀山街道"]
    assert lanshan.streets[4].code == "371302100"  # 白沙埠镇, the first town


def test_birth_division_follows_the_1994_reorganisation() -> None:
    assert birth_division("371323", 2001) == "371323"
    assert birth_division("371323", 1980) == "372827"  # 沂水县 of 临沂地区
    assert birth_division("371302", 1990) == "372801"  # 临沂市 (county-level), 1983-1994
    assert birth_division("371302", 1975) == "372821"  # 临沂县
    for county in CITY.counties:  # python-stdnum knows each code in its year
        for year, seq in ((1970, "3"), (1988, "4"), (2005, "5")):
            body = f"{birth_division(county.code, year)}{year}0101{seq}01"
            number = body + ric.calc_check_digit(body + "0")
            assert ric.is_valid(number), number


def test_seed_registry_creates_the_tree_and_logins_once(tmp_path: Path) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(registry)
    with registry.session() as session:
        logins = seed_registry(session)
    with registry.session() as session:
        counties = session.scalars(select(Organisation).where(
            Organisation.kind == OrgKind.COUNTY)).all()
        assert {c.code: c.name for c in counties} == REAL_CODES
        assert all(c.parent is not None and c.parent.code == "371300" for c in counties)
        assert {c.division_code for c in counties} == set(REAL_CODES)
        streets = session.scalars(select(Organisation).where(
            Organisation.kind == OrgKind.STREET)).all()
        assert len(streets) == sum(len(c.streets) for c in CITY.counties)
        assert all(s.parent is not None and s.code.startswith(s.parent.code) for s in streets)
        codes = set(session.scalars(select(Organisation.code)).all())
        assert {"371300_dsj", "371300_gaj", "371300_scjgj", "371300_jyj", "371300_swjt",
                "371300_bdcdj", "371300_mzj", "371300_wgzx"} <= codes
        assert {f"{c}_{d}" for c in REAL_CODES for d in ("gaj", "mzj", "dsj")} <= codes
        orgs_before = session.scalar(select(func.count()).select_from(Organisation))
        users_before = session.scalar(select(func.count()).select_from(User))

        names = {login.username: login for login in logins}
        assert names["admin"].role is Role.PLATFORM_ADMIN
        assert names["auditor"].role is Role.AUDITOR
        assert names["gaj_admin"].role is Role.ORG_ADMIN
        assert names["gaj_user"].role is Role.ORG_USER
        assert names["lanshan_gaj_admin"].org_name == "临沂市公安局兰山分局"
        assert len(logins) == users_before
        assert all(login.password == DEMO_PASSWORDS[login.role] for login in logins)
        for login in (names["admin"], names["auditor"], names["gaj_user"],
                      names["lanshan_dsj_admin"]):  # argon2 is slow on purpose: a sample
            user = authenticate_user(session, username=login.username, password=login.password)
            assert user is not None and user.role is login.role
            assert user.org.name == login.org_name

    with registry.session() as session:
        assert seed_registry(session) == logins
        assert session.scalar(select(func.count()).select_from(Organisation)) == orgs_before
        assert session.scalar(select(func.count()).select_from(User)) == users_before
    registry.close()


def test_the_demo_registry_has_the_national_code_tables(tmp_path: Path) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(registry)
    with registry.session() as session:
        seed_registry(session)
    with registry.session() as session:
        seed_registry(session)  # idempotent
    with registry.session() as session:
        linyi = session.scalars(select(CodeValue).join(CodeTable).where(
            CodeTable.code == "division", CodeValue.code == "371300")).all()
        assert [value.name for value in linyi] == ["临沂市"]
    registry.close()
