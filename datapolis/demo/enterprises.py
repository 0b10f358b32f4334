"""The true register of legal persons: enterprises whose representatives are residents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datapolis.demo import ids
from datapolis.demo.city import City
from datapolis.demo.population import Population
from datapolis.demo.vec import (
    AS_OF_DAY,
    Days,
    Ints,
    cat,
    num,
    random_days,
    rng_for,
    strings,
    take,
    weighted,
    where,
)
from datapolis.demo.vocab import ENTERPRISE_TYPES, INDUSTRIES, TRADE_CHARS

ENTERPRISES_PER_PERSON = 0.05
STATUSES = ("存续", "在业", "注销", "吊销")
STATUS_WEIGHTS = (68, 14, 13, 5)
CAPITALS = (3, 10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)
CAPITAL_WEIGHTS = (6, 18, 10, 16, 20, 10, 6, 6, 4, 2, 1, 1)


@dataclass(frozen=True)
class Enterprises:
    key: pa.Array
    credit_code: pa.Array
    name: pa.Array
    type: pa.Array
    county: Ints
    street: Ints
    industry: Ints  # index into INDUSTRIES
    founded: Days
    status: Ints  # index into STATUSES
    closed: Days  # NaT unless 注销/吊销
    capital: np.ndarray  # 万元
    legal_rep: Ints  # person index
    address: pa.Array

    @property
    def n(self) -> int:
        return len(self.county)


def generate(city: City, pop: Population, seed: int) -> Enterprises:
    rng = rng_for(seed, "enterprises")
    n = max(20, int(pop.n * ENTERPRISES_PER_PERSON))
    county = weighted(rng, n, [c.population for c in city.counties])
    geo = pop.geo
    street = np.empty(n, dtype=np.int64)
    for ci in range(len(city.counties)):
        sel = np.flatnonzero(county == ci)
        options = np.flatnonzero(geo.street_county == ci)
        street[sel] = options[rng.integers(0, len(options), len(sel))]

    # Registrations grew fast after the 2014 commercial-registration reform.
    recent = rng.random(n) < 0.7
    founded = np.where(recent, random_days(rng, n, "2014-03-01", "2026-04-30"),
                       random_days(rng, n, "1993-01-01", "2014-02-28"))
    status = weighted(rng, n, STATUS_WEIGHTS)
    lifetime = (AS_OF_DAY - founded).astype(np.int64)
    closed_after = (rng.random(n) * np.maximum(lifetime - 30, 1)).astype(np.int64) + 30
    closed = np.where(status >= 2, founded + closed_after.astype("timedelta64[D]"),
                      np.datetime64("NaT"))
    modern = founded >= np.datetime64("2015-10-01")
    county_codes = np.array([int(c.code) for c in city.counties], dtype=np.int64)
    credit = ids.credit_codes(rng, county_codes[county], modern)

    industry = weighted(rng, n, [w for *_, w in INDUSTRIES])
    kind = weighted(rng, n, [w for _, w in ENTERPRISE_TYPES])
    trade = cat(take(TRADE_CHARS, rng.integers(0, len(TRADE_CHARS), n)),
                take(TRADE_CHARS, rng.integers(0, len(TRADE_CHARS), n)))
    word = take([w for _, _, _, w, _ in INDUSTRIES], industry)
    style = rng.integers(0, 10, n)
    county_name = take(strings([c.name for c in city.counties]), county)
    county_short = take(strings([c.short for c in city.counties]), county)
    prefix = where(style < 6, strings(["临沂"] * n),
                   where(style < 8, cat("临沂市", county_name), strings(["山东"] * n)))
    type_names = [t for t, _ in ENTERPRISE_TYPES]
    suffix = np.full(n, "有限公司", dtype=object)
    suffix[kind == type_names.index("股份有限公司（非上市、自然人投资或控股）")] = "股份有限公司"
    suffix[kind == type_names.index("普通合伙企业")] = "中心（普通合伙）"
    solo = kind == type_names.index("个人独资企业")
    suffix[solo] = "经营部"
    prefix = where(solo, county_short, prefix)
    name = cat(prefix, trade, word, pa.array(suffix.tolist(), pa.string()))

    # Representatives are adults of working age.
    age = pop.age()
    adults = np.flatnonzero((age >= 24) & (age <= 70))
    legal_rep = adults[rng.integers(0, len(adults), n)]
    capital = np.array(CAPITALS, dtype=np.float64)[weighted(rng, n, CAPITAL_WEIGHTS)]
    road = take(pop.addr_road, rng.integers(0, pop.households, n))
    address = cat("山东省临沂市", county_name, take(geo.street_name, street),
                  pc.fill_null(road, "工业园区"), num(rng.integers(1, 600, n)), "号")
    return Enterprises(
        key=cat("E", num(np.arange(1, n + 1), 7)), credit_code=credit, name=name,
        type=take(type_names, kind), county=county, street=street, industry=industry,
        founded=founded, status=status, closed=closed, capital=capital, legal_rep=legal_rep,
        address=address,
    )
