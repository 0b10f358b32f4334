"""The true population of the demo city: persons in households at standard addresses.

Every department system is derived from this one truth, so records of one person in several
systems can be linked back to the same `person_key` when scoring later features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datapolis.demo import ids
from datapolis.demo.city import City, birth_division
from datapolis.demo.vec import (
    AS_OF_DAY,
    Days,
    Ints,
    cat,
    num,
    rank_within,
    rng_for,
    strings,
    take,
    weighted,
    where,
)
from datapolis.demo.vocab import (
    EDUCATION,
    ESTATE_SUFFIX,
    ESTATES,
    ETHNICITIES,
    FEMALE_CHARS,
    MALE_CHARS,
    ROADS,
    SURNAMES,
    VILLAGE_HEAD,
    VILLAGE_TAIL,
)

HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_WEIGHTS = (16, 27, 27, 17, 9, 4)
HEAD, SPOUSE, CHILD, PARENT = 0, 1, 2, 3


@dataclass(frozen=True)
class Geography:
    street_code: pa.Array
    street_name: pa.Array
    street_county: Ints  # index into city.counties
    street_is_town: np.ndarray
    street_roads: Ints  # (streets, 4) indices into ROADS
    community_name: pa.Array
    community_code: pa.Array
    community_street: Ints
    community_estate: pa.Array  # the housing estate of an urban community
    county_code: pa.Array
    county_name: pa.Array


@dataclass(frozen=True)
class Population:
    geo: Geography
    # persons, indexed 0..n-1
    key: pa.Array
    id_number: pa.Array
    name: pa.Array
    surname: pa.Array
    sex: Ints  # GB/T 2261.1: 1 male, 2 female
    birth: Days
    birth_division: Ints
    ethnicity: pa.Array
    education: pa.Array
    marriage: pa.Array
    mobile: pa.Array
    passport: pa.Array
    household: Ints
    role: Ints
    # households (one address each), indexed 0..h-1
    hh_no: pa.Array
    hh_head: Ints
    hh_size: Ints
    hh_street: Ints
    hh_community: Ints
    addr_code: pa.Array
    addr_road: pa.Array
    addr_number: pa.Array
    addr_unit: pa.Array
    addr_floor: Ints  # floor of the flat, 0 for houses
    addr_full: pa.Array

    @property
    def n(self) -> int:
        return len(self.sex)

    @property
    def households(self) -> int:
        return len(self.hh_head)

    def age(self) -> Ints:
        return ((AS_OF_DAY - self.birth).astype(np.int64) // 365.25).astype(np.int64)


def _geography(city: City, seed: int) -> Geography:
    rng = rng_for(seed, "geography")
    codes, names, county_idx, towns = [], [], [], []
    for ci, county in enumerate(city.counties):
        for street in county.streets:
            codes.append(street.code)
            names.append(street.name)
            county_idx.append(ci)
            towns.append(street.is_town)
    roads = np.stack([rng.choice(len(ROADS), size=4, replace=False) for _ in codes])
    c_names: list[str] = []
    c_codes: list[str] = []
    c_street: list[int] = []
    c_estate: list[str] = []
    # A few thousand communities: a plain loop is clearer than vectorising and costs nothing.
    for si, code in enumerate(codes):
        seen: set[str] = set()
        suffix = "村" if towns[si] else "社区"
        while len(seen) < 10 + int(rng.integers(0, 13)):
            word = VILLAGE_HEAD[rng.integers(len(VILLAGE_HEAD))]
            word += VILLAGE_TAIL[rng.integers(len(VILLAGE_TAIL))] + suffix
            if word in seen:
                continue
            seen.add(word)
            c_names.append(word)
            c_codes.append(f"{code}{len(seen):03d}")
            c_street.append(si)
            estate = ESTATES[rng.integers(len(ESTATES))]
            c_estate.append(estate + ESTATE_SUFFIX[rng.integers(len(ESTATE_SUFFIX))])
    return Geography(
        street_code=strings(codes), street_name=strings(names),
        street_county=np.array(county_idx, dtype=np.int64), street_is_town=np.array(towns),
        street_roads=roads.astype(np.int64), community_name=strings(c_names),
        community_code=strings(c_codes), community_street=np.array(c_street, dtype=np.int64),
        community_estate=strings(c_estate),
        county_code=strings([c.code for c in city.counties]),
        county_name=strings([c.name for c in city.counties]),
    )


def _given_names(rng: np.random.Generator, sex: Ints) -> pa.Array:
    n = len(sex)
    male, female = strings(MALE_CHARS), strings(FEMALE_CHARS)
    first = where(sex == 1, take(male, rng.integers(0, len(male), n)),
                  take(female, rng.integers(0, len(female), n)))
    second = where(sex == 1, take(male, rng.integers(0, len(male), n)),
                   take(female, rng.integers(0, len(female), n)))
    two = rng.random(n) < 0.82
    return where(two, cat(first, second), first)


def _education(rng: np.random.Generator, age: Ints, birth_year: Ints) -> pa.Array:
    codes = list(EDUCATION)
    # Shares of 11,14,21,31,41,61,71,81 by birth cohort, per mille.
    cohorts = {
        "young": (3, 30, 150, 140, 80, 200, 320, 77),
        "middle": (1, 10, 60, 70, 80, 180, 450, 149),
        "old": (0, 2, 20, 20, 40, 120, 350, 448),
    }
    n = len(age)
    out = np.full(n, codes.index("90"), dtype=np.int64)
    for label, lo, hi in (("young", 1985, 3000), ("middle", 1965, 1985), ("old", 0, 1965)):
        pick = weighted(rng, n, cohorts[label])
        sel = (birth_year >= lo) & (birth_year < hi)
        out[sel] = pick[sel]
    out[age < 23] = codes.index("61")
    out[age < 16] = codes.index("71")
    out[age < 13] = codes.index("81")
    out[age < 6] = codes.index("90")
    return take(codes, out)


def _marriage(rng: np.random.Generator, age: Ints, role: Ints, partnered: np.ndarray) -> pa.Array:
    u = rng.random(len(age))
    code = np.where(age < 22, "10", np.where(u < 0.25, "10", "20"))
    code = np.where((age >= 30) & (u < 0.06), "40", code)
    code = np.where((age >= 30) & (u >= 0.06), "20", code)
    code = np.where((age >= 68) & (u < 0.28), "30", code)
    code = np.where(partnered & (age >= 20), np.where(u < 0.08, "22", "20"), code)
    return pa.array(code.astype(str), pa.string())


def generate(city: City, people: int, seed: int) -> Population:
    rng = rng_for(seed, "population")
    geo = _geography(city, seed)

    # Households: sizes, then members laid out contiguously.
    h_guess = int(people / 2.8 * 1.1) + 10
    sizes = np.array(HOUSEHOLD_SIZES, dtype=np.int64)[weighted(rng, h_guess, HOUSEHOLD_WEIGHTS)]
    ends = np.cumsum(sizes)
    h = int(np.searchsorted(ends, people) + 1)
    sizes = sizes[:h]
    sizes[-1] -= int(ends[h - 1] - people)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    household = np.repeat(np.arange(h, dtype=np.int64), sizes)
    pos = np.arange(people, dtype=np.int64) - starts[household]
    size_of = sizes[household]
    couple = rng.random(h) < 0.86
    has_parent = (sizes >= 5) & (rng.random(h) < 0.7)
    role = np.full(people, CHILD, dtype=np.int64)
    role[pos == 0] = HEAD
    role[(pos == 1) & couple[household]] = SPOUSE
    role[(pos == size_of - 1) & has_parent[household] & (pos >= 2)] = PARENT

    head_age = np.clip(rng.normal(49, 14, h), 20, 92).astype(np.int64)
    head_male = rng.random(h) < 0.76
    ha = head_age[household]
    age = ha.copy()
    spouses = role == SPOUSE
    age[spouses] += np.rint(rng.normal(-1.5, 3, int(spouses.sum()))).astype(np.int64)
    kids = role == CHILD
    age[kids] = ha[kids] - rng.integers(23, 36, int(kids.sum())) - 2 * np.maximum(pos[kids] - 2, 0)
    par = role == PARENT
    age[par] = ha[par] + rng.integers(22, 33, int(par.sum()))
    age = np.clip(age, 0, 101)

    male = np.where(role == HEAD, head_male[household],
                    np.where(role == SPOUSE, ~head_male[household], rng.random(people) < 0.51))
    sex = np.where(male, 1, 2).astype(np.int64)
    offset = rng.integers(0, 365, people).astype("timedelta64[D]")
    birth = AS_OF_DAY - (age * 365.25).astype("timedelta64[D]") - offset
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970

    # Family names follow the male line; wives and mothers keep their own.
    weights = [w for _, w in SURNAMES]
    family = weighted(rng, h, weights)[household]
    own = weighted(rng, people, weights)
    head_is_male = head_male[household]
    inherits = (((role == HEAD) | (role == SPOUSE)) & male) | (role == CHILD)
    inherits |= (role == PARENT) & male & head_is_male
    surname = take([s for s, _ in SURNAMES], np.where(inherits, family, own))
    name = cat(surname, _given_names(rng, sex))

    # Where each household lives: county by population, street (towns smaller), community.
    county = weighted(rng, h, [c.population for c in city.counties])
    street_weight = np.where(geo.street_is_town, 1.0, 1.7)
    hh_street = np.empty(h, dtype=np.int64)
    for ci in range(len(city.counties)):
        sel = np.flatnonzero(county == ci)
        options = np.flatnonzero(geo.street_county == ci)
        hh_street[sel] = options[weighted(rng, len(sel), street_weight[options])]
    comm_count = np.bincount(geo.community_street, minlength=len(geo.street_is_town))
    comm_first = np.r_[0, np.cumsum(comm_count)[:-1]]
    hh_community = comm_first[hh_street] + (rng.random(h) * comm_count[hh_street]).astype(np.int64)
    person_county = geo.street_county[hh_street][household]

    # Most were born in the county they live in; some moved within the city.
    moved = rng.random(people) < 0.08
    birth_county = np.where(moved, rng.integers(0, len(city.counties), people), person_county)
    county_codes = np.array([int(c.code) for c in city.counties], dtype=np.int64)
    legacy = np.array([[int(birth_division(c.code, y)) for y in (1982, 1990, 2000)]
                       for c in city.counties], dtype=np.int64)
    era = np.where(birth_year < 1983, 0, np.where(birth_year < 1994, 1, 2))
    division = np.where(era == 2, county_codes[birth_county], legacy[birth_county, era])

    # Sequence codes unique per (division, birth date); odd for men.
    cell = division * 100_000 + (birth - np.datetime64("1900-01-01")).astype(np.int64)
    cell_offset = (cell * 2654435761) % 499  # a fixed start per cell keeps codes unique
    slot = 1 + (rank_within(cell) + cell_offset) % 499  # 000 is never issued
    order = slot * 2 + np.where(sex == 1, 1, 0)
    id_number = ids.resident_ids(division, birth, order)

    ethnicity = take([c for c, _, _ in ETHNICITIES],
                     weighted(rng, people, [w for _, _, w in ETHNICITIES]))
    mobile = ids.mobiles(rng, people)
    no_phone = (age < 15) | ((age > 75) & (rng.random(people) < 0.5))
    mobile = where(no_phone, pa.nulls(people, pa.string()), mobile)
    passport = where((age >= 18) & (rng.random(people) < 0.06), ids.passports(rng, people),
                     pa.nulls(people, pa.string()))

    hh_no = cat(pc.utf8_slice_codeunits(take(geo.street_code, hh_street), 4, 9),
                num(rank_within(hh_street) + 1, 5))
    addr = _addresses(rng, geo, hh_street, hh_community)
    return Population(
        geo=geo, key=cat("P", num(np.arange(1, people + 1), 8)), id_number=id_number,
        name=name, surname=surname, sex=sex, birth=birth, birth_division=division,
        ethnicity=ethnicity, education=_education(rng, age, birth_year),
        marriage=_marriage(rng, age, role, couple[household] & (role <= SPOUSE) & (size_of > 1)),
        mobile=mobile, passport=passport, household=household, role=role,
        hh_no=hh_no, hh_head=starts, hh_size=sizes, hh_street=hh_street,
        hh_community=hh_community, **addr,
    )


def _addresses(rng: np.random.Generator, geo: Geography, street: Ints,
               community: Ints) -> dict[str, Any]:
    h = len(street)
    town = geo.street_is_town[street]
    road_idx = geo.street_roads[street, rng.integers(0, 4, h)]
    in_village = town & (rng.random(h) < 0.75)
    road = where(in_village, pa.nulls(h, pa.string()), take(ROADS, road_idx))
    number = num(rng.integers(1, 300, h))
    in_estate = ~town & (rng.random(h) < 0.8)
    floor = rng.integers(1, 19, h)
    unit = cat(take(geo.community_estate, community), num(rng.integers(1, 31, h)), "号楼",
               num(rng.integers(1, 5, h)), "单元", num(floor * 100 + rng.integers(1, 5, h)), "室")
    unit = where(in_estate, unit, pa.nulls(h, pa.string()))
    floor = np.where(in_estate, floor, 0)
    county = take(geo.county_name, geo.street_county[street])
    place = cat("山东省临沂市", county, take(geo.street_name, street),
                take(geo.community_name, community))
    full = where(in_village, cat(place, number, "号"),
                 cat(place, road, number, "号", pc.fill_null(unit, "")))
    code = cat(take(geo.street_code, street), num(rank_within(street) + 1, 7))
    return {"addr_code": code, "addr_road": road, "addr_number": cat(number, "号"),
            "addr_unit": unit, "addr_floor": floor, "addr_full": full}
