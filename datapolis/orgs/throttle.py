"""Failed sign-in throttling, for the login form and the API token endpoint alike.

After `max_failures` failures in a row for one account name (a username or an app key, compared
case-insensitively) within `window`, that name is refused for `window` without its password
being checked; a success resets its count. One client address may also fail at most
`max_failures_per_address` times per `window`, so it cannot spray passwords over many names.

The state lives in this process's memory, which is enough because Datapolis serves from one
process (`datapolis serve` runs a single uvicorn worker) and keeps one `LoginThrottle` per app
on `app.state.login_throttle`. A deployment with several processes or hosts would need the
counts in a shared store (the registry database, Redis), or each process would count apart.
Routes run in a thread pool, so every method takes one lock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

log = logging.getLogger(__name__)

Clock = Callable[[], float]  # seconds, monotonic
PRUNE_AT = 1024  # tracked names and addresses before expired ones are dropped


@dataclass
class _Account:
    # Attempts in the window, each counted as a failure from the moment it is admitted until
    # `succeeded` says otherwise: concurrent attempts cannot all slip under the limit.
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        *,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=15),
        max_failures_per_address: int = 50,
        clock: Clock = time.monotonic,
    ) -> None:
        """`max_failures_per_address` 0 means no ceiling per client address."""
        self.max_failures = max_failures
        self.window = window.total_seconds()
        self.max_failures_per_address = max_failures_per_address
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._prune_at = PRUNE_AT

    def admit(self, account: str, address: str) -> int | None:
        """Count one sign-in attempt for `account` from `address`, as a failure until
        `succeeded` is called; or, if either is locked out, count nothing and return the
        seconds until it may try again."""
        now = self._clock()
        with self._lock:
            state = self._accounts.setdefault(account.lower(), _Account())
            wait = self._account_wait(state, now)
            attempts = self._live(self._addresses.setdefault(address, deque()), now)
            ceiling = self.max_failures_per_address
            if ceiling and len(attempts) >= ceiling:
                wait = max(wait, attempts[0] + self.window - now)
            if wait > 0:
                return max(1, math.ceil(wait))
            state.failures.append(now)
            attempts.append(now)
            if len(self._accounts) + len(self._addresses) > self._prune_at:
                self._prune(now)
            return None

    def failed(self, account: str, address: str) -> None:
        """The admitted attempt failed: lock the account if that was one failure too many."""
        now = self._clock()
        with self._lock:
            state = self._accounts.get(account.lower())
            if state is None or state.locked_until > now:
                return
            if len(self._live(state.failures, now)) >= self.max_failures:
                state.locked_until = now + self.window
                state.failures.clear()
                log.warning(
                    "sign-in locked for %r after %d failures (last from %s)",
                    account, self.max_failures, address,
                )

    def succeeded(self, account: str, address: str) -> None:
        """The admitted attempt succeeded: the account starts afresh; the address's count
        loses this attempt but keeps its earlier failures."""
        with self._lock:
            self._accounts.pop(account.lower(), None)
            attempts = self._addresses.get(address)
            if attempts:
                attempts.pop()

    def _account_wait(self, state: _Account, now: float) -> float:
        if state.locked_until > now:
            return state.locked_until - now
        failures = self._live(state.failures, now)
        if len(failures) >= self.max_failures:
            # The last admitted attempt is still being checked; treat it as the locking one.
            return failures[-1] + self.window - now
        return 0.0

    def _live(self, times: deque[float], now: float) -> deque[float]:
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _prune(self, now: float) -> None:
        self._accounts = {
            name: state
            for name, state in self._accounts.items()
            if state.locked_until > now or self._live(state.failures, now)
        }
        self._addresses = {
            address: attempts
            for address, attempts in self._addresses.items()
            if self._live(attempts, now)
        }
        self._prune_at = max(PRUNE_AT, 2 * (len(self._accounts) + len(self._addresses)))


def user_account(username: str) -> str:
    # As loose as the lookup (case-insensitive), so " Admin" and "admin" share one count.
    return "user:" + username.strip().lower()


def app_account(app_key: str) -> str:
    return "app:" + app_key.strip().lower()


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
