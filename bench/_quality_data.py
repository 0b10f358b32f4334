"""The person table of bench/quality_checks.py: realistic Chinese residents with realistic dirt.

Generated entirely in DuckDB SQL from `hash(i * 64 + k, seed)` draws, so a given (rows, seed,
DuckDB version) always gives the same table, and 10,000,000 rows take seconds, not a Python
loop. Columns, as a department's household system exports them into ods:

    id      BIGINT   record key of the source system (the merge key of incremental loads)
    gmsfhm  VARCHAR  GB 11643 resident ID number
    xm      VARCHAR  name
    xb      VARCHAR  sex, GB/T 2261.1 code (0 unknown, 1 male, 2 female, 9 not stated)
    csrq    VARCHAR  birth date as text (YYYY-MM-DD)
    nl      INTEGER  age in years on the day of the export
    sjhm    VARCHAR  mobile number
    yx      VARCHAR  e-mail address
    xzqh    VARCHAR  county of the household registration (GB/T 2260)
    zz      VARCHAR  address
    djrq    DATE     date of registration
    gxsj    TIMESTAMP last update in the source system (the incremental job's cursor)

Dirt, each a share of the rows (drawn independently): ID missing 0.2 %, wrong check digit
0.5 %, impossible birth date inside the ID 0.1 %, legacy 15-digit ID 0.1 %, the same person
entered twice (a second record with the same ID) 0.3 %; name missing or blank 0.6 %; sex
written as 男/女/M/F/3 0.4 %; birth date impossible (1985-02-30, month 13) 0.2 % or outside
1900..the export day 0.15 %; age negative or over 120 0.2 %; mobile too short, a landline or
+86 0.5 %; e-mail without @ or with a bad domain 0.4 % of those who have one; division code
unknown (371399) or truncated 0.3 %; registration date in the future 0.1 %.
"""

from __future__ import annotations

from datetime import date

from datapolis.demo.city import COUNTIES
from datapolis.demo.vocab import (
    EMAIL_DOMAINS,
    FEMALE_CHARS,
    MALE_CHARS,
    MOBILE_PREFIXES,
    ROADS,
    SURNAMES,
)
from datapolis.warehouse import DuckDBEngine

TABLE = "ods_bench.person"
VERSION = 2  # part of the cache key: bump it when the generated rows change
AS_OF = date(2026, 5, 31)  # the export day: ages are counted to it, birth dates end at it
FIRST_BIRTH = date(1900, 1, 1)
DIVISIONS = tuple(c.code for c in COUNTIES)
GENDER_CODES = ("0", "1", "2", "9")
# Birth day (34,000 days from 1930) and 3-digit sequence come from p * stride mod 34,000,000,
# a permutation (the stride is coprime to it): two people never share an ID number by chance,
# only the 0.3 % entered twice do, as in a real register.
BIRTH_SEQ_STRIDE = 21_013_157


def _surname_pool() -> list[str]:
    # One entry per 10 people in 10,000: a uniform draw from the pool follows the real shares.
    return [name for name, share in SURNAMES for _ in range(max(1, share // 10))]


def person_select(first: int, rows: int, seed: int, *, dirt_seed: int | None = None,
                  per_mille: int = 1000) -> tuple[str, dict[str, object]]:
    """SELECT of the persons with record ids first .. first + rows - 1, and its parameters.

    Every value of row i depends only on (i, seed, dirt_seed), so a slice generated later (the
    incremental load of the benchmark) is the same rows a full generation would give. Another
    `dirt_seed` gives the same people with other dirt (an update that fixes some cells and
    spoils others); `per_mille` keeps a deterministic sample of the ids.
    """
    params: dict[str, object] = {
        "seed": seed, "dirt": seed if dirt_seed is None else dirt_seed, "first": first,
        "last": first + rows, "per_mille": per_mille,
        "surnames": _surname_pool(), "male": list(MALE_CHARS), "female": list(FEMALE_CHARS),
        "divisions": list(DIVISIONS), "prefixes": list(MOBILE_PREFIXES),
        "domains": list(EMAIL_DOMAINS), "roads": list(ROADS),
        "as_of": AS_OF, "stride": BIRTH_SEQ_STRIDE,
    }
    # u(k): a uniform draw in [0, 1) for dirt; h(k): a raw 64-bit draw for picking values.
    # A duplicate record (0.3 %) is the person of an earlier record: its p points back.
    sql = """
    WITH draws AS (
        SELECT i,
               CASE WHEN hash(i * 64 + 1, $dirt) % 100000 < 300 AND i > 1000
                    THEN i - 1 - (hash(i * 64 + 2, $dirt) % 1000)::BIGINT ELSE i END AS p,
               (hash(i * 64 + 3, $dirt) % 1000000) / 1e6 AS u_id,
               (hash(i * 64 + 4, $dirt) % 1000000) / 1e6 AS u_name,
               (hash(i * 64 + 5, $dirt) % 1000000) / 1e6 AS u_sex,
               (hash(i * 64 + 6, $dirt) % 1000000) / 1e6 AS u_birth,
               (hash(i * 64 + 7, $dirt) % 1000000) / 1e6 AS u_age,
               (hash(i * 64 + 8, $dirt) % 1000000) / 1e6 AS u_mobile,
               (hash(i * 64 + 9, $dirt) % 1000000) / 1e6 AS u_email,
               (hash(i * 64 + 10, $dirt) % 1000000) / 1e6 AS u_division,
               (hash(i * 64 + 11, $dirt) % 1000000) / 1e6 AS u_registered,
               hash(i * 64 + 12, $dirt) AS h_dirt
        FROM range($first, $last) t(i)
        WHERE hash(i * 64 + 63, $seed) % 1000 < $per_mille
    ), people AS (
        SELECT d.*,
               -- person attributes: functions of p, so a duplicate is the same person
               $divisions[1 + (hash(p * 64 + 20, $seed) % len($divisions))::INT] AS division,
               DATE '1930-01-01' + ((p * $stride) % 34000000 % 34000)::INT AS birth,
               ((p * $stride) % 34000000 // 34000)::INT AS seq,
               $surnames[1 + (hash(p * 64 + 23, $seed) % len($surnames))::INT] AS surname,
               hash(p * 64 + 24, $seed) AS h_given,
               $prefixes[1 + (hash(p * 64 + 25, $seed) % len($prefixes))::INT]
                 || lpad((hash(p * 64 + 26, $seed) % 100000000)::VARCHAR, 8, '0') AS mobile,
               hash(p * 64 + 27, $seed) % 100 < 35 AS has_email,
               $domains[1 + (hash(p * 64 + 28, $seed) % len($domains))::INT] AS domain,
               hash(p * 64 + 29, $seed) % 100 < 85 AS has_mobile,
               $roads[1 + (hash(p * 64 + 30, $seed) % len($roads))::INT] AS road
        FROM draws d
    ), shaped AS (
        SELECT *,
               division || strftime(birth, '%Y%m%d') || lpad(seq::VARCHAR, 3, '0') AS body,
               CASE WHEN seq % 2 = 1 THEN '1' ELSE '2' END AS sex
        FROM people
    ), checked AS (
        SELECT *,
               ((substr(body, 1, 1)::INT * 7 + substr(body, 2, 1)::INT * 9
                 + substr(body, 3, 1)::INT * 10 + substr(body, 4, 1)::INT * 5
                 + substr(body, 5, 1)::INT * 8 + substr(body, 6, 1)::INT * 4
                 + substr(body, 7, 1)::INT * 2 + substr(body, 8, 1)::INT * 1
                 + substr(body, 9, 1)::INT * 6 + substr(body, 10, 1)::INT * 3
                 + substr(body, 11, 1)::INT * 7 + substr(body, 12, 1)::INT * 9
                 + substr(body, 13, 1)::INT * 10 + substr(body, 14, 1)::INT * 5
                 + substr(body, 15, 1)::INT * 8 + substr(body, 16, 1)::INT * 4
                 + substr(body, 17, 1)::INT * 2) % 11) AS check_index
        FROM shaped
    )
    SELECT
        i AS id,
        CASE
            WHEN u_id < 0.002 THEN NULL
            WHEN u_id < 0.007 THEN body || substr('10X98765432',
                 1 + ((check_index + 1 + h_dirt % 10) % 11)::INT, 1)
            WHEN u_id < 0.008 THEN substr(body, 1, 10) || '13' || substr(body, 13)
                 || substr('10X98765432', 1 + check_index, 1)
            WHEN u_id < 0.009 THEN substr(body, 1, 6) || substr(body, 9, 9)
            ELSE body || substr('10X98765432', 1 + check_index, 1)
        END AS gmsfhm,
        CASE
            WHEN u_name < 0.003 THEN NULL
            WHEN u_name < 0.005 THEN ''
            WHEN u_name < 0.006 THEN '  '
            ELSE surname
                 || CASE WHEN sex = '1' THEN $male[1 + (h_given % len($male))::INT]
                         ELSE $female[1 + (h_given % len($female))::INT] END
                 || CASE WHEN h_given % 10 < 3 THEN ''
                         WHEN sex = '1' THEN $male[1 + ((h_given >> 20) % len($male))::INT]
                         ELSE $female[1 + ((h_given >> 20) % len($female))::INT] END
        END AS xm,
        CASE
            WHEN u_sex < 0.004 THEN ['男', '女', 'M', 'F', '3'][1 + (h_dirt % 5)::INT]
            WHEN u_sex < 0.0045 THEN '9'
            ELSE sex
        END AS xb,
        CASE
            WHEN u_birth < 0.001 THEN NULL
            WHEN u_birth < 0.002 THEN strftime(birth, '%Y') || '-02-30'
            WHEN u_birth < 0.003 THEN strftime(birth, '%Y') || '-13-' || strftime(birth, '%d')
            WHEN u_birth < 0.004 THEN '18' || strftime(birth, '%y-%m-%d')
            WHEN u_birth < 0.0045 THEN strftime(birth + INTERVAL 120 YEAR, '%Y-%m-%d')
            ELSE strftime(birth, '%Y-%m-%d')
        END AS csrq,
        CASE
            WHEN u_age < 0.001 THEN NULL
            WHEN u_age < 0.002 THEN -1 - (h_dirt % 5)::INT
            WHEN u_age < 0.003 THEN 121 + (h_dirt % 80)::INT
            ELSE date_diff('year', birth, $as_of)
                 - CASE WHEN strftime(birth, '%m%d') > strftime($as_of, '%m%d')
                        THEN 1 ELSE 0 END
        END::INTEGER AS nl,
        CASE
            WHEN NOT has_mobile THEN NULL
            WHEN u_mobile < 0.002 THEN substr(mobile, 1, 10)
            WHEN u_mobile < 0.004 THEN '0539-' || substr(mobile, 5, 7)
            WHEN u_mobile < 0.005 THEN '+86' || mobile
            ELSE mobile
        END AS sjhm,
        CASE
            WHEN NOT has_email THEN NULL
            WHEN u_email < 0.002 THEN 'u' || lpad((p % 100000000)::VARCHAR, 8, '0') || domain
            WHEN u_email < 0.004 THEN 'u' || lpad((p % 100000000)::VARCHAR, 8, '0') || '@'
                 || split_part(domain, '.', 1)
            ELSE CASE WHEN hash(p * 64 + 31, $seed) % 2 = 0
                      THEN lpad((100000 + hash(p * 64 + 32, $seed) % 900000000)::VARCHAR, 9, '1')
                      ELSE 'u' || lpad((p % 100000000)::VARCHAR, 8, '0') END
                 || '@' || domain
        END AS yx,
        CASE
            WHEN u_division < 0.002 THEN '371399'
            WHEN u_division < 0.003 THEN '3713'
            ELSE division
        END AS xzqh,
        '山东省临沂市' || road || (1 + hash(p * 64 + 33, $seed) % 300)::VARCHAR || '号' AS zz,
        CASE
            WHEN u_registered < 0.001 THEN DATE '2030-01-01' + (h_dirt % 3000)::INT
            ELSE greatest(birth, DATE '1995-01-01')
                 + (hash(i * 64 + 34, $seed) % greatest(1, date_diff('day',
                      greatest(birth, DATE '1995-01-01'), $as_of)))::INT
        END AS djrq,
        $as_of::TIMESTAMP - to_seconds((hash(i * 64 + 35, $seed) % (86400 * 3650))::BIGINT)
          AS gxsj
    FROM checked
    """
    return sql, params


def generate(engine: DuckDBEngine, rows: int, seed: int) -> None:
    """Create TABLE in `engine` with `rows` persons (record ids 1 .. rows)."""
    sql, params = person_select(1, rows, seed)
    engine.execute("CREATE SCHEMA IF NOT EXISTS ods_bench")
    engine.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {sql}", params)
