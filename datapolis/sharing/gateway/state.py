"""What the gateway keeps for the life of a server: keys, the nonce book and its caches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from datapolis.config import Settings
from datapolis.security.crypto import Keyring
from datapolis.sharing.gateway import credentials
from datapolis.sharing.gateway.nonces import NonceBook
from datapolis.sharing.grants.service import (
    ActiveGrant,
    active_grant,
    grants_generation,
    sync_generation,
)

# How often another process's grant changes are looked for (one registry read).
SYNC_SECONDS = 1.0
# How long an app's signing state is trusted before it is read again: an app revoked, or its
# secret rotated, through the identity slice stops signing within this time.
APP_SECONDS = 1.0


class GrantCache:
    """active_grant() results, kept until a grant changes anywhere.

    Changes in this process move `grants_generation()` at once; changes made by another
    process (the CLI on the same registry) are seen within SYNC_SECONDS. The grant's own
    validity window is checked by the caller against the call's time.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], tuple[int, ActiveGrant | None]] = {}
        self._views: dict[int, tuple[int, Any]] = {}
        self._synced = 0.0
        self._lock = threading.Lock()

    def generation(self, session: Session) -> int:
        if time.monotonic() - self._synced > SYNC_SECONDS:
            self._synced = time.monotonic()
            return sync_generation(session)
        return grants_generation()

    def get(self, session: Session, app_id: int, resource_code: str,
            now: datetime) -> ActiveGrant | None:
        generation = self.generation(session)
        cached = self._found.get((app_id, resource_code))
        if cached is not None and cached[0] == generation:
            return cached[1]
        grant = active_grant(session, app_id=app_id, resource_code=resource_code, now=now)
        with self._lock:
            if len(self._found) > 50_000:
                self._found.clear()
            # Only a live grant is kept: a miss is asked again, so a grant that becomes valid
            # later (valid_from in the future) is found when its time comes.
            if grant is not None:
                self._found[(app_id, resource_code)] = (generation, grant)
        return grant

    def view(self, grant_id: int, build: Any) -> Any:
        """What `build()` makes for the grant, until grants change."""
        generation = grants_generation()
        cached = self._views.get(grant_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        made = build()
        with self._lock:
            if len(self._views) > 10_000:
                self._views.clear()
            self._views[grant_id] = (generation, made)
        return made


@dataclass
class Gateway:
    settings: Settings
    keyring: Keyring
    nonces: NonceBook
    grants: GrantCache = field(default_factory=GrantCache)
    _secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)
    _apps: dict[str, tuple[float, int, credentials.AppState]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Gateway:
        return cls(settings, Keyring.from_secret(settings.secret_key), NonceBook())

    def secret(self, app_key: str, sealed: str) -> str:
        """The app's signing secret, unsealed once per sealed value (SM4 is not per call)."""
        found = self._secrets.get((app_key, sealed))
        if found is None:
            found = credentials.unseal(self.keyring, app_key, sealed)
            with self._lock:
                if len(self._secrets) > 10_000:
                    self._secrets.clear()
                self._secrets[(app_key, sealed)] = found
        return found


    def app_state(self, session: Session, app_key: str) -> credentials.AppState | None:
        """The app's signing state, read again after APP_SECONDS or a re-issued secret."""
        cached = self._apps.get(app_key)
        now, issued = time.monotonic(), credentials.issued_generation()
        if cached is not None and now - cached[0] < APP_SECONDS and cached[1] == issued:
            return cached[2]
        state = credentials.app_state(session, app_key)
        if state is not None:  # unknown keys are not kept: anyone can make up many
            with self._lock:
                if len(self._apps) > 10_000:
                    self._apps.clear()
                self._apps[app_key] = (now, issued, state)
        return state

    def forget_apps(self) -> None:
        """Read every app's state again on its next call."""
        with self._lock:
            self._apps.clear()

    def spawn(self, name: str, target: Callable[[], None]) -> None:
        """Run `target` in a thread the server waits for when it stops (bulk exports)."""
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._lock:
            self._workers = [t for t in self._workers if t.is_alive()]
            self._workers.append(thread)
        thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Wait for running workers, so the warehouse is not closed under them."""
        deadline = time.monotonic() + timeout
        for thread in list(self._workers):
            thread.join(max(0.0, deadline - time.monotonic()))


def install(app: FastAPI, settings: Settings) -> None:
    """Give `app` its gateway state; called by the app factory."""
    app.state.share_gateway = Gateway.from_settings(settings)


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.share_gateway
    return gateway
