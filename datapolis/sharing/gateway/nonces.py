"""Replay protection: each (app, nonce) is accepted once while its timestamp is fresh.

Nonces are kept in memory for the freshness window (±5 minutes), which is all that is needed
while the server runs. Across a restart the book would be empty, so the server also refuses
any timestamp older than its own start: a call captured before a restart cannot be replayed
after it, without a registry write on every call. The cost: a client whose clock runs behind
the server's gets `stale_timestamp` for as long as it lags, during the first minutes after a
restart. One server process owns the warehouse (see docs/architecture.md), so one book suffices.
"""

from __future__ import annotations

import threading
import time

WINDOW_SECONDS = 300


class NonceBook:
    def __init__(self, *, window: int = WINDOW_SECONDS, started: float | None = None) -> None:
        self.window = window
        self.started = time.time() if started is None else started
        self._seen: dict[tuple[int, str], float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def check_time(self, timestamp: int, now: float | None = None) -> bool:
        """Whether `timestamp` is fresh: within the window and not before the server started."""
        now = time.time() if now is None else now
        return abs(now - timestamp) <= self.window and timestamp >= int(self.started)

    def first_use(self, app_id: int, nonce: str, now: float | None = None) -> bool:
        """Record the nonce; False if this app used it already within the window."""
        now = time.time() if now is None else now
        key = (app_id, nonce)
        with self._lock:
            if now >= self._next_prune:
                self._prune(now)
            expiry = self._seen.get(key)
            if expiry is not None and expiry > now:
                return False
            # A nonce stays taken for twice the window: its timestamp may lie up to one window
            # in the future and stays acceptable for a window after that.
            self._seen[key] = now + 2 * self.window
            return True

    def _prune(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._next_prune = now + 10

    def __len__(self) -> int:
        return len(self._seen)
