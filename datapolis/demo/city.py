"""The demo city's organisation tree as data, and seeding it into the registry.

County codes are the real GB/T 2260 codes of Linyi (临沂市, 371300) and the street/town names
are real. Street codes are synthetic: county code + 3 digits numbered the way the statistics
bureau numbers them (街道 001-099, 镇 100-199, 乡 200-399), in the order listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog.standards import seed_standards
from datapolis.orgs.models import Organisation, OrgKind, Role
from datapolis.orgs.service import create_organisation, create_user
from datapolis.security.grading.scheme import seed_default as seed_default_scheme


@dataclass(frozen=True)
class Street:
    code: str  # 9 digits, synthetic
    name: str

    @property
    def is_town(self) -> bool:
        return not self.name.endswith("街道")


@dataclass(frozen=True)
class County:
    code: str  # GB/T 2260
    name: str
    short: str  # name without 区/县, used in enterprise names and unit titles
    pinyin: str
    population: int  # resident population in thousands (2020 census, rounded)
    streets: tuple[Street, ...]

    @property
    def is_district(self) -> bool:
        return self.name.endswith("区")


@dataclass(frozen=True)
class Department:
    abbr: str  # pinyin abbreviation; org code is <division>_<abbr>
    name: str
    system: str | None  # key of the business system it runs (see SYSTEMS), if any

    def code(self, division: str) -> str:
        return f"{division}_{self.abbr}"


@dataclass(frozen=True)
class City:
    code: str
    name: str
    counties: tuple[County, ...]
    departments: tuple[Department, ...]
    county_departments: tuple[tuple[str, str], ...]  # (abbr, name pattern with {county})
    login_county: str  # the county whose departments get demo logins

    def county(self, code: str) -> County:
        for county in self.counties:
            if county.code == code:
                return county
        raise KeyError(code)


def _streets(county: str, names: str) -> tuple[Street, ...]:
    streets: list[Street] = []
    counters = {"街道": 1, "镇": 100, "乡": 200}
    for name in names.split():
        suffix = "街道" if name.endswith("街道") else name[-1]
        streets.append(Street(code=f"{county}{counters[suffix]:03d}", name=name))
        counters[suffix] += 1
    return tuple(streets)


def _county(code: str, name: str, pinyin: str, population: int, streets: str) -> County:
    return County(code=code, name=name, short=name[:-1] if len(name) > 2 else name,
                  pinyin=pinyin, population=population, streets=_streets(code, streets))


COUNTIES: tuple[County, ...] = (
    _county("371302", "兰山区", "lanshan", 1265,
            "兰山街道 银雀山街道 金雀山街道 柳青街道 白沙埠镇 枣园镇 半程镇 义堂镇"),
    _county("371311", "罗庄区", "luozhuang", 555,
            "罗庄街道 傅庄街道 盛庄街道 册山街道 高都街道 沂堂镇 褚墩镇 黄山镇"),
    _county("371312", "河东区", "hedong", 703,
            "九曲街道 芝麻墩街道 凤凰岭街道 梅埠街道 相公街道 太平街道 汤头街道 郑旺镇"),
    _county("371321", "沂南县", "yinan", 775, "界湖街道 岸堤镇 孙祖镇 双堠镇 青驼镇 张庄镇"),
    _county("371322", "郯城县", "tancheng", 867, "郯城街道 马头镇 重坊镇 李庄镇 红花镇 港上镇"),
    _county("371323", "沂水县", "yishui", 1010,
            "沂城街道 龙家圈街道 道托镇 高庄镇 许家湖镇 诸葛镇"),
    _county("371324", "兰陵县", "lanling", 1129, "卞庄街道 苍山街道 向城镇 尚岩镇 磨山镇 兰陵镇"),
    _county("371325", "费县", "feixian", 759, "费城街道 上冶镇 薛庄镇 探沂镇 朱田镇 梁邱镇"),
    _county("371326", "平邑县", "pingyi", 878, "平邑街道 仲村镇 武台镇 保太镇 柏林镇 卞桥镇"),
    _county("371327", "莒南县", "junan", 794, "十字路街道 大店镇 坪上镇 石莲子镇 岭泉镇 板泉镇"),
    _county("371328", "蒙阴县", "mengyin", 447, "蒙阴街道 常路镇 岱崮镇 坦埠镇 垛庄镇 野店镇"),
    _county("371329", "临沭县", "linshu", 560, "临沭街道 郑山街道 蛟龙镇 大兴镇 石门镇 曹庄镇"),
)

# Before the 1994 reorganisation the same places were counties of 临沂地区 (3728xx); ID numbers
# keep the code in force at birth, so older residents carry these (GB/T 2260-1991).
LEGACY_CODES: dict[str, str] = {
    "371321": "372832", "371322": "372822", "371323": "372827", "371324": "372823",
    "371325": "372831", "371326": "372830", "371327": "372824", "371328": "372829",
    "371329": "372833",
}
_OLD_CITY = "372801"  # 临沂市 (county-level city, 1983-1994): today's three districts
_OLD_COUNTY = "372821"  # 临沂县, before 1983


def birth_division(county_code: str, birth_year: int) -> str:
    """The division code an ID number issued for a birth in `county_code` carries."""
    if birth_year >= 1994:
        return county_code
    if county_code in LEGACY_CODES:
        return LEGACY_CODES[county_code]
    return _OLD_CITY if birth_year >= 1983 else _OLD_COUNTY


DEPARTMENTS: tuple[Department, ...] = (
    Department("dsj", "临沂市大数据局", None),
    Department("gaj", "临沂市公安局", "gaj_hjxt"),
    Department("scjgj", "临沂市市场监督管理局", "scjg_qydj"),
    Department("jyj", "临沂市教育局", "jy_xlxx"),
    Department("swjt", "临沂市水务集团有限公司", "swjt_yxxt"),
    Department("bdcdj", "临沂市自然资源和规划局（不动产登记中心）", "bdc_djxt"),
    Department("mzj", "临沂市民政局", "mzj_dibao"),
    Department("wgzx", "临沂市网格化服务中心", "wgzx_sjxt"),
)

CITY = City(
    code="371300",
    name="临沂市",
    counties=COUNTIES,
    departments=DEPARTMENTS,
    county_departments=(("gaj", "{police}"), ("mzj", "{county}民政局"),
                        ("dsj", "{county}大数据中心")),
    login_county="371302",
)


def county_department_name(county: County, pattern: str) -> str:
    # Districts have a branch of the city police (临沂市公安局兰山分局); counties their own bureau.
    police = f"临沂市公安局{county.short}分局" if county.is_district else f"{county.name}公安局"
    return pattern.format(county=county.name, police=police)


# --- registry seeding ----------------------------------------------------------------------

# One fixed password per role, printed by `make run` and documented in docs/demo.md.
DEMO_PASSWORDS: dict[Role, str] = {
    Role.PLATFORM_ADMIN: "Admin@Linyi2026",
    Role.ORG_ADMIN: "OrgAdmin@Linyi2026",
    Role.ORG_USER: "User@Linyi2026",
    Role.AUDITOR: "Audit@Linyi2026",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    org_name: str


@dataclass(frozen=True)
class _PlannedUser:
    username: str
    role: Role
    org_code: str
    org_name: str
    display_name: str


def _planned_users(city: City) -> list[_PlannedUser]:
    bureau = city.departments[0]
    users = [
        _PlannedUser("admin", Role.PLATFORM_ADMIN, bureau.code(city.code), bureau.name,
                     "平台管理员"),
        _PlannedUser("auditor", Role.AUDITOR, bureau.code(city.code), bureau.name, "安全审计员"),
    ]
    for dept in city.departments:
        for role, suffix, title in ((Role.ORG_ADMIN, "admin", "数据管理员"),
                                    (Role.ORG_USER, "user", "业务用户")):
            users.append(_PlannedUser(f"{dept.abbr}_{suffix}", role, dept.code(city.code),
                                      dept.name, f"{dept.name}{title}"))
    county = city.county(city.login_county)
    for abbr, pattern in city.county_departments:
        name = county_department_name(county, pattern)
        for role, suffix, title in ((Role.ORG_ADMIN, "admin", "数据管理员"),
                                    (Role.ORG_USER, "user", "业务用户")):
            users.append(_PlannedUser(f"{county.pinyin}_{abbr}_{suffix}", role,
                                      f"{county.code}_{abbr}", name, f"{name}{title}"))
    return users


def demo_logins(city: City = CITY) -> list[DemoLogin]:
    return [DemoLogin(u.username, DEMO_PASSWORDS[u.role], u.role, u.org_name)
            for u in _planned_users(city)]


def seed_registry(session: Session, city: City = CITY) -> list[DemoLogin]:
    """Create the city's organisations and demo users, and the national code tables and data
    elements the catalog ships, and the default classification scheme; a second call creates
    nothing."""
    seed_standards(session)
    seed_default_scheme(session)
    exists = session.scalar(select(Organisation.id).where(Organisation.code == city.code))
    if exists is not None:
        return demo_logins(city)
    orgs: dict[str, Organisation] = {}
    root = create_organisation(session, code=city.code, name=city.name, kind=OrgKind.CITY,
                               division_code=city.code, short_name="临沂")
    orgs[city.code] = root
    for dept in city.departments:
        orgs[dept.code(city.code)] = create_organisation(
            session, code=dept.code(city.code), name=dept.name, kind=OrgKind.DEPARTMENT,
            division_code=city.code, parent=root, short_name=dept.name.removeprefix("临沂市"))
    for county in city.counties:
        node = create_organisation(session, code=county.code, name=county.name,
                                   kind=OrgKind.COUNTY, division_code=county.code, parent=root,
                                   short_name=county.short)
        for street in county.streets:
            create_organisation(session, code=street.code, name=street.name,
                                kind=OrgKind.STREET, division_code=street.code, parent=node)
        for abbr, pattern in city.county_departments:
            code = f"{county.code}_{abbr}"
            orgs[code] = create_organisation(
                session, code=code, name=county_department_name(county, pattern),
                kind=OrgKind.DEPARTMENT, division_code=county.code, parent=node)
    for planned in _planned_users(city):
        create_user(session, username=planned.username, password=DEMO_PASSWORDS[planned.role],
                    role=planned.role, org=orgs[planned.org_code],
                    display_name=planned.display_name)
    return demo_logins(city)
