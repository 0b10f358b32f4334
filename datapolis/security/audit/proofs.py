"""Receipts (inclusion proofs) and consistency proofs, and checking them with the public key only.

A receipt is JSON a department can keep: the event's canonical text, its leaf index, the tree
size, the audit path and the signed checkpoint of that size. Anyone holding the platform's
public key can check it later without access to the registry.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.errors import NotFound, UserError
from datapolis.security.audit import merkle
from datapolis.security.audit.models import AuditEvent
from datapolis.security.audit.service import DEFAULT_LOG, checkpoints, get_log
from datapolis.security.audit.signing import Checkpoint, key_id, signature_valid

RECEIPT_FORMAT = "datapolis-audit-receipt/1"
CONSISTENCY_FORMAT = "datapolis-audit-consistency/1"


def _leaves(session: Session, log_id: int, size: int) -> list[bytes]:
    rows = session.scalars(
        select(AuditEvent.leaf_hash).where(AuditEvent.log_id == log_id, AuditEvent.seq < size)
        .order_by(AuditEvent.seq)
    )
    leaves = [bytes.fromhex(leaf) for leaf in rows]
    if len(leaves) != size:
        raise UserError(f"the stored log has {len(leaves)} events below {size}: run "
                        f"`datapolis audit verify`")
    return leaves


def receipt(session: Session, seq: int, *, log: str = DEFAULT_LOG) -> dict[str, Any]:
    target = get_log(session, log)
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.log_id == target.id, AuditEvent.seq == seq)
    )
    if event is None:
        raise NotFound(f"audit log {log!r} has no event {seq}")
    signed = next((c for c in checkpoints(session, target) if c.size > seq), None)
    if signed is None:
        raise UserError(f"event {seq} is not yet covered by a signed checkpoint; run "
                        f"`datapolis audit checkpoint`")
    h = merkle.hasher(target.hash)
    path = merkle.inclusion_path(h, seq, _leaves(session, target.id, signed.size))
    return {"format": RECEIPT_FORMAT, "event": event.canonical, "leaf_index": seq,
            "tree_size": signed.size, "audit_path": [node.hex() for node in path],
            "checkpoint": signed.as_json()}


def consistency(session: Session, first: int, second: int, *,
                log: str = DEFAULT_LOG) -> dict[str, Any]:
    """A proof that the signed checkpoint of size `second` extends the one of size `first`."""
    target = get_log(session, log)
    signed = {c.size: c for c in checkpoints(session, target)}
    for size in (first, second):
        if size not in signed:
            raise NotFound(f"audit log {log!r} has no checkpoint of size {size}")
    if first > second:
        raise UserError("the first checkpoint must not be larger than the second")
    h = merkle.hasher(target.hash)
    proof = [] if first == second else merkle.consistency_proof(
        h, first, _leaves(session, target.id, second))
    return {"format": CONSISTENCY_FORMAT, "first": signed[first].as_json(),
            "second": signed[second].as_json(), "proof": [node.hex() for node in proof]}


def _hexes(values: object, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise UserError(f"{what} is not a list")
    try:
        return [bytes.fromhex(str(v)) for v in values]
    except ValueError:
        raise UserError(f"{what} holds something that is not hex") from None


def load(text: str, expected_format: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"not JSON ({exc.msg} at line {exc.lineno}): truncated or damaged?"
        ) from None
    except ValueError:
        raise UserError("not UTF-8 JSON: truncated or damaged?") from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise UserError(f"not a {expected_format} document")
    return data


def _claimed_seq(event: bytes) -> int | None:
    try:
        body = json.loads(event)
        return int(body["seq"]) if isinstance(body, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def verify_receipt(data: dict[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with a receipt; an empty list means it proves its event.

    Each way of forging one gets its own message: a leaf index that is not the event's own
    number, a forged signature over the true root, an altered root (it is not what was signed
    and the path does not reach it), an altered path or event (signed root, path misses it),
    and a checkpoint signed by another key.
    """
    try:
        event = str(data["event"]).encode()
        index, size = int(data["leaf_index"]), int(data["tree_size"])
        path = _hexes(data["audit_path"], "audit_path")
        signed = Checkpoint.from_json(data["checkpoint"])
        root = bytes.fromhex(signed.root)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"receipt is missing or has a malformed field: {exc}") from None
    problems = []
    if signed.size != size:
        problems.append(f"receipt claims tree size {size} but its checkpoint signs {signed.size}")
    claimed = _claimed_seq(event)
    if claimed != index:
        problems.append(f"wrong leaf index: the receipt says {index} but the event is number "
                        f"{claimed}")
    h = merkle.hasher(signed.hash)
    reached = merkle.path_root(h, leaf=merkle.leaf_hash(h, event), index=index, size=size,
                               path=path)
    signature_ok = signature_valid(public_key, signed)
    if signed.key_id != key_id(public_key):
        problems.append(f"checkpoint signed by key id {signed.key_id}, not by the given key "
                        f"{key_id(public_key)}")
    elif not signature_ok and reached == root:
        problems.append(f"forged checkpoint signature: the root of size {signed.size} is right "
                        f"but its signature does not verify (key id {signed.key_id})")
    elif not signature_ok:
        problems.append(f"altered checkpoint root: {signed.root} of size {signed.size} is not "
                        f"what key {signed.key_id} signed, and the audit path does not reach it")
    if signature_ok and reached != root and claimed == index:
        problems.append(f"wrong audit path: it does not lead from event {index} to the signed "
                        f"root of size {signed.size} (a path node or the event was altered)")
    return problems


def verify_consistency_proof(data: dict[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    try:
        first = Checkpoint.from_json(data["first"])
        second = Checkpoint.from_json(data["second"])
        proof = _hexes(data["proof"], "proof")
    except KeyError as exc:
        raise UserError(f"consistency proof is missing {exc}") from None
    problems = [f"bad checkpoint signature (key id {c.key_id}) for size {c.size}"
                for c in (first, second) if not signature_valid(public_key, c)]
    h = merkle.hasher(second.hash)
    if not merkle.verify_consistency(
        h, first=first.size, second=second.size, first_root=bytes.fromhex(first.root),
        second_root=bytes.fromhex(second.root), proof=proof,
    ):
        problems.append(f"checkpoint of size {second.size} does not extend the one of size "
                        f"{first.size}: the log was rewritten")
    return problems
