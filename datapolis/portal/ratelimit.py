"""A sliding-window rate limit per key (an API key, a client address), kept in the process.

`admit` answers None when the call may go ahead, or the seconds to wait (for Retry-After).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimit:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, now: float | None = None) -> int | None:
        moment = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= moment - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - moment))
            hits.append(moment)
            if len(self._hits) > 100_000:  # forget idle keys so the table cannot grow forever
                for stale in [k for k, v in self._hits.items() if not v]:
                    del self._hits[stale]
            return None
