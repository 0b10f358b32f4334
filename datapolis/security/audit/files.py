"""The audit log as a file: exporting it as JSON Lines, and checking such a file with no database.

Each line of an export is one event's canonical JSON, byte for byte what was hashed, so an
outsider recomputes the leaves, the chain (`prev`) and the tree, and compares the roots with
the signed checkpoints they were given. The file's own order is what is checked: a line that
was edited, dropped, added or moved, and a file cut short, are each named by event number and
line number.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.security.audit import canonical, merkle
from datapolis.security.audit.models import AuditEvent
from datapolis.security.audit.service import DEFAULT_LOG, get_log
from datapolis.security.audit.signing import Checkpoint, signature_valid

CHECKPOINTS_FORMAT = "datapolis-audit-checkpoints/1"
_BATCH = 5000


def export_lines(
    session: Session, *, log: str = DEFAULT_LOG, first: int | None = None,
    last: int | None = None,
) -> Iterator[str]:
    """The canonical events from `first` to `last` (inclusive), one line each, in order."""
    target = get_log(session, log)
    query = (select(AuditEvent.canonical).where(AuditEvent.log_id == target.id)
             .order_by(AuditEvent.seq).execution_options(yield_per=_BATCH))
    if first is not None:
        query = query.where(AuditEvent.seq >= first)
    if last is not None:
        query = query.where(AuditEvent.seq <= last)
    for text in session.scalars(query):
        yield text + "\n"


@dataclass
class _Line:
    number: int  # 1-based line in the file
    seq: int
    prev: str
    leaf: bytes


@dataclass
class FileReport:
    events: int = 0
    first: int | None = None
    last: int | None = None
    checked: int = 0  # checkpoints whose root was compared
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_checkpoints(text: str) -> tuple[str, list[Checkpoint]]:
    """The hash name and the checkpoints of an `export-checkpoints` document."""
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError("checkpoints file is not JSON: truncated or damaged?") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINTS_FORMAT:
        raise UserError(f"not a {CHECKPOINTS_FORMAT} document")
    signed = data.get("checkpoints")
    if not isinstance(signed, list):
        raise UserError("checkpoints file has no list of checkpoints")
    found = sorted((Checkpoint.from_json(c) for c in signed), key=lambda c: c.size)
    merkle.hasher(str(data.get("hash")))  # refuses an unknown hash
    return str(data["hash"]), found


def _parse(raw: bytes, number: int, is_last: bool, h: merkle.Hasher,
           report: FileReport) -> _Line | None:
    try:
        body: Any = json.loads(raw)
        seq, prev = int(body["seq"]), str(body["prev"])
    except (ValueError, KeyError, TypeError):
        if is_last:
            report.problems.append(f"truncated file: the last line ({number}) is cut off "
                                   f"mid-JSON")
        else:
            report.problems.append(f"line {number} is not an audit event: damaged")
        return None
    if not canonical.is_canonical(raw):
        report.problems.append(f"altered event {seq} (line {number}): not in canonical form, "
                               f"so not the bytes that were hashed")
    return _Line(number, seq, prev, merkle.leaf_hash(h, raw))


def _inserted(lines: list[_Line], report: FileReport) -> list[_Line]:
    """Drop the lines that duplicate an event number; the genuine one of a pair is the one the
    next event points at (or, at the end of the file, the first)."""
    referenced = {line.prev for line in lines}
    groups: defaultdict[int, list[_Line]] = defaultdict(list)
    for line in lines:
        groups[line.seq].append(line)
    dropped: set[int] = set()
    for seq, group in groups.items():
        if len(group) < 2:
            continue
        genuine = next((x for x in group if x.leaf.hex() in referenced), group[0])
        for line in group:
            if line is not genuine:
                dropped.add(line.number)
                report.problems.append(f"inserted line {line.number}: a second event {seq} "
                                       f"that the next event does not point at")
    return [line for line in lines if line.number not in dropped]


def _reordered(lines: list[_Line], report: FileReport) -> None:
    in_order = sorted(lines, key=lambda line: line.seq)
    moved = [(line, want) for line, want in zip(lines, in_order, strict=True)
             if line.seq != want.seq]
    if len(moved) == 2:
        (a, _), (b, _) = moved
        report.problems.append(f"reordered events {a.seq} and {b.seq}: lines {a.number} and "
                               f"{b.number} are swapped")
        return
    for line, want in moved:
        report.problems.append(f"reordered: line {line.number} holds event {line.seq}, but "
                               f"event {want.seq} belongs there")


def _gaps_and_chain(lines: list[_Line], report: FileReport) -> None:
    in_order = sorted(lines, key=lambda line: line.seq)
    if in_order and in_order[0].seq == 0 and in_order[0].prev != "":
        report.problems.append(f"altered event 0 (line {in_order[0].number}): the first event "
                               f"points at an event before it")
    for before, after in pairwise(in_order):
        if after.seq > before.seq + 1:
            gone = range(before.seq + 1, after.seq)
            names = ", ".join(str(k) for k in gone) if len(gone) <= 5 else \
                f"{gone[0]}..{gone[-1]}"
            report.problems.append(f"deleted event{'s' if len(gone) > 1 else ''} {names}: "
                                   f"line {before.number} holds event {before.seq} and line "
                                   f"{after.number} event {after.seq}")
        elif after.seq == before.seq + 1 and after.prev != before.leaf.hex():
            report.problems.append(f"altered event {before.seq} (line {before.number}): event "
                                   f"{after.seq} (line {after.number}) does not point at it")


def _roots(lines: list[_Line], signed: list[Checkpoint], key: Ed25519PublicKey,
           h: merkle.Hasher, report: FileReport) -> None:
    for c in signed:
        if not signature_valid(key, c):
            report.problems.append(f"bad checkpoint signature at size {c.size} "
                                   f"(key id {c.key_id})")
    if not lines or lines[0].seq != 0:
        report.notes.append("the file does not start at event 0, so the signed roots cannot "
                            "be recomputed; export without --from to check them")
        return
    last = report.last if report.last is not None else -1
    frontier: list[bytes] = []
    size, since, failed = 0, 0, False
    for c in signed:
        if c.size > last + 1:
            report.problems.append(f"truncated file: it ends at event {last} but checkpoint "
                                   f"covers {c.size} events (up to {c.size - 1})")
            break
        report.checked += 1
        while size < min(c.size, len(lines)):
            size = merkle.append(h, frontier, size, lines[size].leaf)
        if size < c.size or merkle.frontier_root(h, frontier).hex() != c.root:
            # A difference below an earlier checkpoint changes every later root too, so only
            # the first mismatch can say where the difference lies.
            where = f"events {since}..{c.size - 1} differ from what was signed" if not failed \
                else f"events 0..{c.size - 1} are not all what was signed"
            report.problems.append(f"checkpoint at size {c.size} does not match the file: "
                                   f"{where}")
            failed = True
        since = c.size
    covered = max((c.size for c in signed), default=0)
    if len(lines) > covered:
        report.notes.append(f"events {covered}..{len(lines) - 1} are not yet covered by a "
                            f"signed checkpoint: only their chain was checked")


def verify_file(data: bytes, *, hash_name: str, checkpoints: list[Checkpoint],
                public_key: Ed25519PublicKey) -> FileReport:
    """Check an `export-log` file against signed checkpoints; every problem named."""
    h = merkle.hasher(hash_name)
    report = FileReport()
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()  # the newline that ends the last line
    cut = not data.endswith(b"\n")
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        parsed = _parse(raw, number, cut and number == len(raw_lines), h, report)
        if parsed is not None:
            lines.append(parsed)
    report.events = len(lines)
    lines = _inserted(lines, report)
    _reordered(lines, report)
    _gaps_and_chain(lines, report)
    if lines:
        report.first, report.last = min(x.seq for x in lines), max(x.seq for x in lines)
    _roots(sorted(lines, key=lambda line: line.seq), checkpoints, public_key, h, report)
    return report
