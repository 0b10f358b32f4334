"""The meter's append-only journal: call records on local disk before they reach the registry.

Each `Meter.submit` appends one JSON line with a single `write()` before it returns. The bytes
are then in the kernel's page cache, so killing the server (SIGKILL included) loses none of them;
the writer thread `fsync`s once per batch, so a power cut loses at most one batch window. Lines
live in segment files; a segment is deleted once every record in it is committed to the
registry. A start-up finds the segments a killed server left and replays them (records carry
unique ids, so a record committed before the kill is not inserted twice).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from datapolis.errors import ConfigError
from datapolis.sharing.metering.records import Call, from_journal

log = logging.getLogger(__name__)
SUFFIX = ".calls"


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.size = 0  # bytes in the current segment
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._path: Path | None = None
        self._unsynced: list[tuple[int, Path]] = []  # rotated away, not yet fsynced and closed

    def open(self) -> list[Path]:
        """Lock the directory, start a new segment; return the segments an earlier run left."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise ConfigError(
                f"call-record journal {self.directory} is in use by another server"
            ) from None
        self._lock_fd = lock_fd
        leftovers = self.segments()
        self._start_segment()
        return leftovers

    def segments(self) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{SUFFIX}") if p != self._path)

    @property
    def current(self) -> Path | None:
        return self._path

    def _start_segment(self) -> None:
        path = self.directory / f"{time.time_ns():020d}{SUFFIX}"
        while path.exists():  # two rotations within one clock tick
            path = self.directory / f"{time.time_ns() + 1:020d}{SUFFIX}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._path, self.size = path, 0

    def append(self, line: bytes) -> None:
        """One write of whole lines (callers serialise appends)."""
        if self._fd is None:
            raise RuntimeError("journal is not open")
        written = os.write(self._fd, line)
        while written < len(line):  # a short write on a full disk or a signal
            written += os.write(self._fd, line[written:])
        self.size += len(line)

    def rotate(self) -> Path:
        """Start a new segment (callers serialise with appends); return the old one."""
        if self._fd is None or self._path is None:
            raise RuntimeError("journal is not open")
        old = (self._fd, self._path)
        self._unsynced.append(old)
        self._start_segment()
        return old[1]

    def sync(self) -> None:
        """fsync what was appended: the current segment and any rotated away since."""
        unsynced, self._unsynced = self._unsynced, []
        for fd, _path in unsynced:
            os.fsync(fd)
            os.close(fd)
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self, *, remove_current: bool) -> None:
        self.sync()
        if self._fd is not None:
            os.close(self._fd)
            if remove_current and self._path is not None:
                self._path.unlink(missing_ok=True)
        self._fd = self._path = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def read_segment(path: Path) -> Iterator[tuple[str, Call]]:
    """The records of a segment; a torn or foreign line (a write cut by a power loss) is
    skipped with a warning, never fatal."""
    bad = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                yield from_journal(line)
            except (ValueError, KeyError, TypeError):
                bad += 1
    if bad:
        log.warning("call-record journal %s: %d unreadable line(s) skipped", path.name, bad)
