"""Recompute the whole audit log from its stored events and name exactly what is wrong.

Each stored event must be canonical, hash to its stored leaf, carry its own sequence number and
point (`prev`) at the event before it. Those facts tell an altered event from a deleted, an
inserted or a moved one; the signed checkpoints then catch anything rewritten consistently
(events and their leaf hashes together), and a log shorter than what was signed is truncated.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.security.audit import canonical, merkle
from datapolis.security.audit.models import AuditEvent
from datapolis.security.audit.service import DEFAULT_LOG, checkpoints, get_log
from datapolis.security.audit.signing import signature_valid


@dataclass
class Report:
    log: str
    hash: str
    events: int
    checkpoints: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Row:
    seq: int  # where it is stored
    claimed: int | None  # the sequence number inside the event
    prev: str
    stored_leaf: str
    leaf: bytes  # recomputed


def _rows(session: Session, log_id: int, h: merkle.Hasher) -> tuple[list[_Row], list[str]]:
    rows, problems = [], []
    query = (select(AuditEvent.seq, AuditEvent.canonical, AuditEvent.leaf_hash)
             .where(AuditEvent.log_id == log_id).order_by(AuditEvent.seq))
    for seq, text, stored_leaf in session.execute(query):
        raw = text.encode()
        leaf = merkle.leaf_hash(h, raw)
        claimed, prev = None, ""
        try:
            body = json.loads(raw)
            claimed, prev = int(body["seq"]), str(body["prev"])
        except (ValueError, KeyError, TypeError):
            pass
        if leaf.hex() != stored_leaf or claimed is None or not canonical.is_canonical(raw):
            problems.append(f"altered event {seq}: its content does not hash to its leaf")
        rows.append(_Row(seq, claimed, prev, stored_leaf, leaf))
    return rows, problems


def _order_problems(rows: list[_Row]) -> list[str]:
    problems = []
    by_seq = {row.seq: row for row in rows}
    for row in rows:  # two events that traded places
        other = by_seq.get(row.claimed) if row.claimed is not None else None
        swapped = other is not None and other.claimed == row.seq and row.seq < other.seq
        if other is not None and swapped:
            problems.append(f"reordered events {row.seq} and {other.seq}")
    claimed = Counter(row.claimed for row in rows if row.claimed is not None)
    referenced = {row.prev for row in rows}
    same_claim: defaultdict[int | None, list[_Row]] = defaultdict(list)
    same_prev: defaultdict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        same_claim[row.claimed].append(row)
        same_prev[row.prev].append(row)
    for row in rows:  # a forged event sits beside the genuine one that its successor points at
        rivals = [r for r in same_claim[row.claimed] + same_prev[row.prev] if r is not row]
        if rivals and row.stored_leaf not in referenced and any(
            r.stored_leaf in referenced for r in rivals
        ):
            problems.append(f"inserted event at {row.seq}")
    for before, row in pairwise(rows):  # rewritten together with its leaf
        follows = before.claimed is not None and row.claimed == before.claimed + 1
        if follows and row.seq == before.seq + 1 and row.prev != before.stored_leaf:
            problems.append(f"altered event {before.seq}: event {row.seq} does not point at it "
                            f"(its content and leaf hash were both rewritten)")
    last = max(claimed, default=-1)
    missing = [k for k in range(last + 1) if k not in claimed]
    problems += [f"deleted event {k}" for k in missing]
    return problems


def verify_log(session: Session, public_key: Ed25519PublicKey, *,
               log: str = DEFAULT_LOG) -> Report:
    target = get_log(session, log)
    h = merkle.hasher(target.hash)
    signed = checkpoints(session, target)
    rows, problems = _rows(session, target.id, h)
    report = Report(log=target.name, hash=target.hash, events=len(rows),
                    checkpoints=len(signed), problems=problems)
    report.problems += _order_problems(rows)
    longest = max([target.size, *(c.size for c in signed)], default=0)
    if len(rows) < longest:
        report.problems.append(
            f"truncated log: {len(rows)} events stored, but {longest} were appended and signed"
        )
    leaves = [row.leaf for row in rows]
    frontier: list[bytes] = []
    size, previous = 0, None
    for c in signed:
        if not signature_valid(public_key, c):
            report.problems.append(f"bad checkpoint signature at size {c.size} (key id {c.key_id})")
        if c.size > len(leaves):
            continue
        while size < c.size:
            size = merkle.append(h, frontier, size, leaves[size])
        if merkle.frontier_root(h, frontier).hex() != c.root:
            since = previous.size if previous else 0
            report.problems.append(
                f"checkpoint at size {c.size} does not match the stored events: events "
                f"{since}..{c.size - 1} differ from what was signed"
            )
        elif previous is not None and not merkle.verify_consistency(
            h, first=previous.size, second=c.size, first_root=bytes.fromhex(previous.root),
            second_root=bytes.fromhex(c.root),
            proof=merkle.consistency_proof(h, previous.size, leaves[:c.size]),
        ):
            report.problems.append(
                f"checkpoints at sizes {previous.size} and {c.size} are not consistent"
            )
        previous = c
    return report
