"""The audit log on real registries (SQLite, PostgreSQL): appends, checkpoints, receipts,
consistency proofs, and `verify_log` naming each kind of tampering."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import text

from datapolis.errors import UserError
from datapolis.registry.db import Registry
from datapolis.security.audit import merkle, proofs, service
from datapolis.security.audit.signing import Signer
from datapolis.security.audit.verify import Report, verify_log

SIGNER = Signer.from_secret("audit-test-secret-key-0123456789abcdef")
OTHER = Signer.from_secret("someone-else-entirely-0123456789abcdef")


def fill(registry: Registry, n: int = 20, *, signed_at: tuple[int, ...] = (8, 16)) -> None:
    with registry.session() as session:
        for i in range(n):
            service.record(session, kind="login", actor=f"user-{i}", org="371300_gaj",
                           details={"ip": "10.0.0.1", "n": i})
            if i + 1 in signed_at:
                service.checkpoint(session, SIGNER)


def report(registry: Registry, signer: Signer = SIGNER) -> Report:
    with registry.session() as session:
        return verify_log(session, signer.public_key)


def sql(registry: Registry, statement: str, **params: object) -> None:
    with registry.engine.begin() as connection:
        connection.execute(text(statement), params)


def stored(registry: Registry, seq: int) -> tuple[str, str]:
    with registry.engine.connect() as connection:
        row = connection.execute(
            text("SELECT canonical, leaf_hash FROM audit_events WHERE seq = :s"), {"s": seq}
        ).one()
    return row[0], row[1]


def test_an_untouched_log_verifies(registry: Registry) -> None:
    fill(registry)
    result = report(registry)
    assert result.ok, result.problems
    assert (result.events, result.checkpoints, result.hash) == (20, 2, "sm3")


def test_events_are_canonical_json_chained_by_leaf(registry: Registry) -> None:
    fill(registry, 3, signed_at=())
    first, first_leaf = stored(registry, 0)
    second, _ = stored(registry, 1)
    body = json.loads(second)
    assert second == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert body["seq"] == 1 and body["prev"] == first_leaf and json.loads(first)["prev"] == ""
    assert body["time"].endswith("Z") and body["details"] == {"ip": "10.0.0.1", "n": 1}
    assert merkle.leaf_hash(merkle.hasher("sm3"), first.encode()).hex() == first_leaf


def test_altered_event_is_named(registry: Registry) -> None:
    fill(registry)
    sql(registry, "UPDATE audit_events SET canonical = replace(canonical, 'user-5', 'mallory') "
                  "WHERE seq = 5")
    assert "altered event 5: its content does not hash to its leaf" in report(registry).problems


def test_altered_event_with_its_leaf_rewritten_is_named(registry: Registry) -> None:
    fill(registry)
    forged = stored(registry, 5)[0].replace("user-5", "mallory")
    leaf = merkle.leaf_hash(merkle.hasher("sm3"), forged.encode()).hex()
    sql(registry, "UPDATE audit_events SET canonical = :c, leaf_hash = :l WHERE seq = 5",
        c=forged, l=leaf)
    problems = report(registry).problems
    assert problems[0].startswith("altered event 5: event 6 does not point at it")
    assert "checkpoint at size 8 does not match the stored events: events 0..7 differ from " \
           "what was signed" in problems


def test_deleted_event_is_named(registry: Registry) -> None:
    fill(registry)
    sql(registry, "DELETE FROM audit_events WHERE seq = 5")
    problems = report(registry).problems
    assert problems[0] == "deleted event 5"
    assert any(p.startswith("truncated log: 19 events stored, but 20") for p in problems)


def test_deleted_event_with_the_rest_renumbered_is_named(registry: Registry) -> None:
    fill(registry)
    sql(registry, "DELETE FROM audit_events WHERE seq = 5")
    sql(registry, "UPDATE audit_events SET seq = seq - 1 WHERE seq > 5")
    assert report(registry).problems[0] == "deleted event 5"


def test_inserted_event_is_named(registry: Registry) -> None:
    fill(registry)
    h = merkle.hasher("sm3")
    body = json.loads(stored(registry, 5)[0]) | {"actor": "mallory"}
    forged = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # make room at 5 (two steps, so the unique (log, seq) never collides on PostgreSQL)
    sql(registry, "UPDATE audit_events SET seq = -seq - 1 WHERE seq >= 5")
    sql(registry, "UPDATE audit_events SET seq = -seq WHERE seq < 0")
    sql(registry, "INSERT INTO audit_events (log_id, seq, recorded_at, kind, actor, org, "
                  "canonical, leaf_hash) SELECT log_id, 5, recorded_at, kind, 'mallory', org, "
                  ":c, :l FROM audit_events WHERE seq = 6",
        c=forged, l=merkle.leaf_hash(h, forged.encode()).hex())
    problems = report(registry).problems
    assert problems[0] == "inserted event at 5"
    assert not any(p.startswith(("altered", "deleted", "reordered")) for p in problems)


def test_reordered_events_are_named(registry: Registry) -> None:
    fill(registry)
    sql(registry, "UPDATE audit_events SET seq = -1 WHERE seq = 3")
    sql(registry, "UPDATE audit_events SET seq = 3 WHERE seq = 7")
    sql(registry, "UPDATE audit_events SET seq = 7 WHERE seq = -1")
    problems = report(registry).problems
    assert problems[0] == "reordered events 3 and 7"
    assert "checkpoint at size 8 does not match the stored events: events 0..7 differ from " \
           "what was signed" in problems


def test_bad_checkpoint_signature_is_named(registry: Registry) -> None:
    fill(registry)
    sql(registry, "UPDATE audit_checkpoints SET signature = "
                  "(SELECT signature FROM audit_checkpoints WHERE size = 16) WHERE size = 8")
    problems = report(registry).problems
    assert problems == [f"bad checkpoint signature at size 8 (key id {SIGNER.key_id})"]
    assert len(report(registry, OTHER).problems) == 2  # a key that never signed this log


def test_truncated_log_is_named(registry: Registry) -> None:
    fill(registry)
    sql(registry, "DELETE FROM audit_events WHERE seq >= 12")
    assert report(registry).problems == [
        "truncated log: 12 events stored, but 20 were appended and signed"
    ]


def test_receipt_verifies_with_the_public_key_only(registry: Registry) -> None:
    fill(registry)
    with registry.session() as session:
        kept = json.loads(json.dumps(proofs.receipt(session, 5)))
        with pytest.raises(UserError, match="event 19 is not yet covered by a signed checkpoint"):
            proofs.receipt(session, 19)
    assert kept["tree_size"] == 8 and kept["leaf_index"] == 5 and len(kept["audit_path"]) == 3
    assert proofs.verify_receipt(kept, SIGNER.public_key) == []
    assert proofs.verify_receipt(kept, OTHER.public_key) == [
        f"checkpoint signed by key id {SIGNER.key_id}, not by the given key {OTHER.key_id}"
    ]
    forged = kept | {"event": kept["event"].replace("user-5", "mallory")}
    assert proofs.verify_receipt(forged, SIGNER.public_key) == [
        "wrong audit path: it does not lead from event 5 to the signed root of size 8 (a path "
        "node or the event was altered)"
    ]


def test_each_forged_receipt_gets_its_own_message(registry: Registry) -> None:
    fill(registry)
    with registry.session() as session:
        kept = json.loads(json.dumps(proofs.receipt(session, 5)))
    path = list(kept["audit_path"])
    path[1] = "ab" * 32
    assert proofs.verify_receipt(kept | {"audit_path": path}, SIGNER.public_key) == [
        "wrong audit path: it does not lead from event 5 to the signed root of size 8 (a path "
        "node or the event was altered)"
    ]
    moved = proofs.verify_receipt(kept | {"leaf_index": 4}, SIGNER.public_key)
    assert moved == ["wrong leaf index: the receipt says 4 but the event is number 5"]
    root = "cd" * 32
    rerooted = kept | {"checkpoint": kept["checkpoint"] | {"root": root}}
    assert proofs.verify_receipt(rerooted, SIGNER.public_key) == [
        f"altered checkpoint root: {root} of size 8 is not what key {SIGNER.key_id} signed, "
        f"and the audit path does not reach it"
    ]
    fake = base64.b64encode(OTHER.private_key.sign(b"anything")).decode()
    forged = kept | {"checkpoint": kept["checkpoint"] | {"signature": fake}}
    assert proofs.verify_receipt(forged, SIGNER.public_key) == [
        f"forged checkpoint signature: the root of size 8 is right but its signature does not "
        f"verify (key id {SIGNER.key_id})"
    ]


def test_consistency_proof_between_checkpoints(registry: Registry) -> None:
    fill(registry)
    with registry.session() as session:
        proof = proofs.consistency(session, 8, 16)
    assert proofs.verify_consistency_proof(proof, SIGNER.public_key) == []
    assert len(proof["proof"]) == 1  # 8 leaves are a complete subtree of 16: one node proves it
    bent = proof | {"proof": ["00" * 32]}
    assert proofs.verify_consistency_proof(bent, SIGNER.public_key) == [
        "checkpoint of size 16 does not extend the one of size 8: the log was rewritten"
    ]


def test_checkpoint_if_due_counts_events_and_minutes(registry: Registry) -> None:
    with registry.session() as session:
        assert service.checkpoint_if_due(session, SIGNER) is None  # no log yet
        for i in range(9):
            service.record(session, kind="download", actor="u", details={"i": i})
        assert service.checkpoint_if_due(session, SIGNER, every_events=10) is None
        service.record(session, kind="download", actor="u")
        signed = service.checkpoint_if_due(session, SIGNER, every_events=10)
        assert signed is not None and signed.size == 10
        assert service.checkpoint_if_due(session, SIGNER, every_minutes=0) is None  # nothing new
        service.record(session, kind="download", actor="u")
        again = service.checkpoint_if_due(session, SIGNER, every_minutes=0)
        assert again is not None and again.size == 11


def test_a_sha256_log_records_its_hash(registry: Registry) -> None:
    with registry.session() as session:
        service.create_log(session, name="exports", hash="sha256")
        for i in range(5):
            service.record(session, kind="export", actor="u", details={"i": i}, log="exports")
        service.checkpoint(session, SIGNER, log="exports")
        kept = proofs.receipt(session, 2, log="exports")
        result = verify_log(session, SIGNER.public_key, log="exports")
    assert result.ok and result.hash == "sha256"
    assert kept["checkpoint"]["hash"] == "sha256"
    assert proofs.verify_receipt(kept, SIGNER.public_key) == []


def test_bad_input_is_refused_clearly(registry: Registry) -> None:
    with registry.session() as session, pytest.raises(UserError, match="floats are not allowed"):
        service.record(session, kind="x", actor="u", details={"ratio": 0.5})
    with registry.session() as session, pytest.raises(UserError, match="unknown audit hash"):
        service.create_log(session, name="x", hash="md5")
    with pytest.raises(UserError, match="truncated or damaged"):
        proofs.load('{"format": "datapolis-audit-receipt/1", "ev', proofs.RECEIPT_FORMAT)


def test_logins_are_audit_events(registry: Registry) -> None:
    from conftest import PASSWORD, make_city, make_users

    from datapolis.orgs import service as orgs

    with registry.session() as session:
        make_users(session, make_city(session))
        assert orgs.authenticate_user(session, username="org_user", password=PASSWORD)
        assert orgs.authenticate_user(session, username="org_user", password="wrong") is None
    with registry.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT kind, actor, org FROM audit_events WHERE kind LIKE 'auth.%' ORDER BY seq"
        )).all()
    assert [tuple(r) for r in rows] == [("auth.login", "org_user", "371300_gaj"),
                                        ("auth.login_failed", "org_user", "371300_gaj")]


def test_the_server_checkpointer_signs_when_due(registry: Registry) -> None:
    from datapolis.security.audit.checkpointer import Checkpointer

    checkpointer = Checkpointer(registry, SIGNER, every_events=5)
    fill(registry, 4, signed_at=())
    assert checkpointer.tick() is None
    fill(registry, 1, signed_at=())
    signed = checkpointer.tick()
    assert signed is not None and signed.size == 5
    checkpointer.start(every=0.01)
    checkpointer.stop()
    assert report(registry).ok


def test_the_app_runs_a_checkpointer(app: object) -> None:
    from fastapi.testclient import TestClient

    from datapolis.security.audit.checkpointer import Checkpointer

    with TestClient(app, base_url="https://testserver") as client:  # type: ignore[arg-type]
        assert isinstance(client.app.state.audit_checkpointer, Checkpointer)  # type: ignore[attr-defined]
