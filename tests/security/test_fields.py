"""Field encryption: protected columns sealed on landing, blind-index lookups and joins, key
rotation, rekey, retirement, crash-safe protection, plaintext reads and their audit events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from conftest import TEST_SECRET_KEY
from sqlalchemy import select

from datapolis.errors import Conflict, UserError
from datapolis.ingest.apply import apply_changes
from datapolis.ingest.cdc.events import Change, Op
from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.land import land_incremental, land_snapshot
from datapolis.orgs.permissions import Permission
from datapolis.registry.db import Registry
from datapolis.security.audit.models import AuditEvent
from datapolis.security.crypto import DecryptionError, Keyring
from datapolis.security.deid.plans import Plan, Rule
from datapolis.security.fields import reads, service
from datapolis.security.fields.cipher import RetiredKeyError
from datapolis.security.fields.models import FieldKey
from datapolis.security.fields.sealer import FieldSealer
from datapolis.warehouse import DuckDBEngine
from tests.ingest.arrow_source import ArrowSource

MASTER = Keyring.from_secret(TEST_SECRET_KEY)
IDS = ["370102199001011234", "37010219850505123X", None, "370102200012310011"]
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class Reader:
    def __init__(self, *allowed: Permission) -> None:
        self.name, self.allowed = "admin", set(allowed)

    def can(self, permission: Permission) -> bool:
        return permission in self.allowed


ADMIN = Reader(Permission.READ_PROTECTED)


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    return DuckDBEngine(tmp_path / "w.duckdb")


def people(ids: list[int], numbers: list[str | None]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "sfzh": pa.array(numbers, pa.string()),
                     "name": pa.array([f"n{i}" for i in ids], pa.string())})


def protect(registry: Registry, engine: DuckDBEngine, table: str = "ods_x.t",
            column: str = "sfzh", **options: Any) -> service.Protection:
    return service.protect(registry, engine, MASTER, table=table, column=column,
                           family=options.pop("family", "id_number"), actor="admin", **options)


def stored(engine: DuckDBEngine, table: str = "ods_x.t") -> list[dict[str, Any]]:
    return engine.query(f"SELECT * FROM {table} ORDER BY id").to_pylist()


def plain(registry: Registry, engine: DuckDBEngine, table: str = "ods_x.t") -> list[Any]:
    with registry.session() as session:
        data = reads.plaintext(session, engine, MASTER, ADMIN, table=table,
                               data=engine.query(f"SELECT * FROM {table} ORDER BY id"))
    assert not [c for c in data.column_names if c.endswith("__bidx")]
    return data.column("sfzh").to_pylist()


def kinds(registry: Registry) -> list[str]:
    with registry.session() as session:
        return list(session.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)))


def test_protecting_encrypts_existing_rows_and_landings_seal_new_ones(
    registry: Registry, engine: DuckDBEngine
) -> None:
    engine.write("ods_x.t", people([1, 2, 3, 4], IDS), mode="create")
    done = protect(registry, engine)
    assert (done.state, done.rows_encrypted, done.plain_type) == ("protected", 3, "VARCHAR")
    rows = stored(engine)
    assert all(r["sfzh"].startswith("sm4gcm:f1:") for r in rows if r["id"] != 3)
    assert rows[2]["sfzh"] is None and rows[2]["sfzh__bidx"] is None
    assert not any(IDS[0] in json.dumps(r) for r in rows)
    assert plain(registry, engine) == IDS

    # A snapshot lands through the sealer: ciphertext and index, never the plain value.
    sealer = FieldSealer(registry, MASTER)
    land_snapshot(engine, ArrowSource(people([1, 5], [IDS[0], " 370102199001011234 "])),
                  job="j", table="t", target="ods_x.t", sealer=sealer)
    rows = stored(engine)
    assert [r["id"] for r in rows] == [1, 5]
    assert all(r["sfzh"].startswith("sm4gcm:f1:") for r in rows)
    # Normalised before indexing: the padded copy has the same blind index, another nonce.
    assert rows[0]["sfzh__bidx"] == rows[1]["sfzh__bidx"] and rows[0]["sfzh"] != rows[1]["sfzh"]
    assert plain(registry, engine) == [IDS[0], " 370102199001011234 "]

    # Incremental merges seal too; a later landing without a sealer is refused, not stored.
    land_incremental(engine, ArrowSource(people([6], [IDS[1]])), job="i", table="t",
                     target="ods_x.t", key=["id"], cursor_column="id", sealer=sealer)
    assert plain(registry, engine)[-1] == IDS[1]
    with pytest.raises(TerminalSourceError, match="sfzh"):
        land_snapshot(engine, ArrowSource(people([7], [IDS[0]])), job="j", table="t",
                      target="ods_x.t")
    assert "field.protected" in kinds(registry)


def test_cdc_changes_are_sealed_and_non_text_types_come_back(
    sqlite_registry: Registry, engine: DuckDBEngine
) -> None:
    engine.write("ods_x.c", pa.table({"id": [1], "birth": pa.array([20000101], pa.int64())}),
                 mode="create")
    protect(sqlite_registry, engine, table="ods_x.c", column="birth", family="birth")
    sealer = FieldSealer(sqlite_registry, MASTER)
    events = [
        Change(table="public.c", op=Op.INSERT, row={"id": 2, "birth": 19991231}, key=("id",),
               committed_at=AT, position="0/10", transaction_end=True),
        Change(table="public.c", op=Op.UPDATE, row={"id": 1, "birth": 20000102}, key=("id",),
               committed_at=AT, position="0/20", transaction_end=True),
    ]
    apply_changes(engine, events, job="c", targets={"public.c": "ods_x.c"}, max_wait=0,
                  sealer=sealer)
    rows = stored(engine, "ods_x.c")
    assert all(r["birth"].startswith("sm4gcm:") and r["birth__bidx"] for r in rows)
    with sqlite_registry.session() as session:
        data = reads.read_plain(session, engine, MASTER, ADMIN, table="ods_x.c",
                                where=[("birth", 20000102)])
    assert data.to_pylist() == [{"id": 1, "birth": 20000102, "_deleted": False,
                                 "_deleted_at": None}]
    assert data.schema.field("birth").type == pa.int64()


def test_blind_index_lookup_and_a_join_across_tables(
    sqlite_registry: Registry, engine: DuckDBEngine
) -> None:
    engine.write("ods_x.t", people([1, 2, 3, 4], IDS), mode="create")
    engine.write("ods_y.owners", pa.table({"zjhm": [IDS[1].lower(), "110101190001011111"],
                                           "house": ["A-1", "B-2"]}), mode="create")
    protect(sqlite_registry, engine)
    protect(sqlite_registry, engine, table="ods_y.owners", column="zjhm")
    with sqlite_registry.session() as session:
        found = reads.lookup(session, engine, MASTER, table="ods_x.t", column="sfzh",
                             value="37010219850505123x")  # lower-case x: the same person
        predicate, params = reads.condition(session, MASTER, "ods_x.t", "sfzh", IDS[0])
    assert found.column("id").to_pylist() == [2]
    assert predicate == '"sfzh__bidx" = ?' and params[0] != IDS[0]
    joined = engine.query(
        "SELECT t.id, o.house FROM ods_x.t t JOIN ods_y.owners o ON t.sfzh__bidx = o.zjhm__bidx"
    ).to_pylist()
    assert joined == [{"id": 2, "house": "A-1"}]


def test_rotation_rekey_and_retirement(sqlite_registry: Registry, engine: DuckDBEngine) -> None:
    registry = sqlite_registry
    engine.write("ods_x.t", people([1, 2], IDS[:2]), mode="create")
    protect(registry, engine)
    with registry.session() as session:
        assert service.rotate_key(session, MASTER, actor="admin").key_id == "f2"
    sealer = FieldSealer(registry, MASTER)
    land_incremental(engine, ArrowSource(people([3], [IDS[3]])), job="i", table="t",
                     target="ods_x.t", key=["id"], cursor_column="id", sealer=sealer)
    keys_used = [r["sfzh"].split(":")[1] for r in stored(engine)]
    assert keys_used == ["f1", "f1", "f2"]  # old rows readable, new writes on the new key
    assert plain(registry, engine) == [IDS[0], IDS[1], IDS[3]]

    with registry.session() as session:
        with pytest.raises(Conflict, match=r"'f1' still encrypts 2 value\(s\) \(ods_x.t.sfzh 2\)"):
            service.retire_key(session, engine, "f1", actor="admin")
        with pytest.raises(Conflict, match="current key"):
            service.retire_key(session, engine, "f2", actor="admin")
    before = [r["sfzh__bidx"] for r in stored(engine)]
    assert service.rekey(registry, engine, MASTER, table="ods_x.t", actor="admin",
                         batch_rows=1) == 2
    assert [r["sfzh"].split(":")[1] for r in stored(engine)] == ["f2", "f2", "f2"]
    assert [r["sfzh__bidx"] for r in stored(engine)] == before
    with registry.session() as session:
        service.retire_key(session, engine, "f1", actor="admin")
        retired = session.scalar(select(FieldKey).where(FieldKey.key_id == "f1"))
        assert retired is not None and retired.state == "retired" and retired.wrapped == ""
    assert plain(registry, engine) == [IDS[0], IDS[1], IDS[3]]
    changes = [k for k in kinds(registry) if k.startswith("field")]
    assert changes == ["field.protected", "field_key.rotated", "field.decrypted",
                       "field.rekeyed", "field_key.retired", "field.decrypted"]


def test_a_rotated_away_key_and_a_tampered_value_are_named(
    sqlite_registry: Registry, engine: DuckDBEngine
) -> None:
    registry = sqlite_registry
    engine.write("ods_x.t", people([1, 2], IDS[:2]), mode="create")
    protect(registry, engine)
    old = stored(engine)[0]["sfzh"]
    with registry.session() as session:
        service.rotate_key(session, MASTER, actor="admin")
    service.rekey(registry, engine, MASTER, table="ods_x.t", actor="admin")
    with registry.session() as session:
        service.retire_key(session, engine, "f1", actor="admin")
    # A value restored from an old backup still names the retired key.
    engine.execute("UPDATE ods_x.t SET sfzh = ? WHERE id = 1", [old])
    with pytest.raises(RetiredKeyError, match="field key 'f1', which was rotated away and retired"):
        plain(registry, engine)
    current = stored(engine)[1]["sfzh"]
    body = current.rsplit(":", 1)[1]
    flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    engine.execute("UPDATE ods_x.t SET sfzh = ? WHERE id = 1",
                   [current.rsplit(":", 1)[0] + ":" + flipped])
    with pytest.raises(DecryptionError, match="under key 'f2' does not verify"):
        plain(registry, engine)


def test_a_protect_stopped_midway_leaves_rows_whole_and_a_rerun_finishes(
    registry: Registry, engine: DuckDBEngine
) -> None:
    numbers = [f"3701021990{i:08d}" for i in range(1, 101)]
    engine.write("ods_x.t", people(list(range(1, 101)), numbers), mode="create")
    calls: list[int] = []

    def crash(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a crash, after 3 batches

    with pytest.raises(KeyboardInterrupt):
        protect(registry, engine, batch_rows=10, progress=crash)
    rows = stored(engine)
    sealed = [r for r in rows if r["sfzh__bidx"] is not None]
    assert len(sealed) == 30
    # Every row is either plain and pending (no index) or encrypted: never half.
    assert all(r["sfzh"] == numbers[r["id"] - 1] for r in rows if r["sfzh__bidx"] is None)
    assert all(r["sfzh"].startswith("sm4gcm:f1:") for r in sealed)
    with registry.session() as session:
        assert service.protections(session)[0].state == "encrypting"
        # Landings already seal the column while it is being protected.
        assert FieldSealer(registry, MASTER).columns("ods_x.t") == {"sfzh"}

    resumed = protect(registry, engine, batch_rows=10)
    assert resumed.state == "protected" and resumed.rows_encrypted == 100
    assert plain(registry, engine) == numbers
    assert kinds(registry).count("field.protected") == 1


def test_unprotect_restores_the_column_and_public_views_withhold_it(
    sqlite_registry: Registry, engine: DuckDBEngine
) -> None:
    registry = sqlite_registry
    engine.write("ods_x.t", people([1, 2, 3, 4], IDS), mode="create")
    protect(registry, engine)
    with registry.session() as session:
        plan = reads.withhold(session, "ods_x.t", Plan((Rule("id"), Rule("sfzh", "mask"),
                                                        Rule("name"))))
        assert plan.columns == ["id", "name"]
        assert set(plan.withheld) == {"sfzh", "sfzh__bidx"}
        with pytest.raises(reads.NotAllowed, match=r"security\.decrypt"):
            reads.plaintext(session, engine, MASTER, Reader(), table="ods_x.t",
                            data=engine.query("SELECT * FROM ods_x.t"))
    with pytest.raises(Conflict, match="already protected"):
        protect(registry, engine)
    assert service.unprotect(registry, engine, MASTER, table="ods_x.t", column="sfzh",
                             actor="admin") == 3
    assert [r["sfzh"] for r in stored(engine)] == IDS
    assert "sfzh__bidx" not in {c.name for c in engine.columns("ods_x.t")}
    # Plain landings are allowed again once nothing in the table is sealed.
    land_snapshot(engine, ArrowSource(people([1], [IDS[0]])), job="j", table="t",
                  target="ods_x.t")
    assert kinds(registry) == ["field.protected", "field.unprotected"]


def test_bad_designations_are_refused(sqlite_registry: Registry, engine: DuckDBEngine) -> None:
    engine.write("ods_x.t", people([1], IDS[:1]), mode="create")
    with pytest.raises(UserError, match="no column 'nope'"):
        protect(sqlite_registry, engine, column="nope")
    with pytest.raises(UserError, match=r"no table ods_x\.missing"):
        protect(sqlite_registry, engine, table="ods_x.missing")
    with pytest.raises(UserError, match="family 'ID No'"):
        protect(sqlite_registry, engine, family="ID No")
    with sqlite_registry.session() as session:
        assert service.protections(session) == []
