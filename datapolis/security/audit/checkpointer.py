"""A background thread in `datapolis serve` that signs checkpoints when they are due."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from datapolis.registry.db import Registry
from datapolis.security.audit.service import (
    CHECKPOINT_EVERY_EVENTS,
    CHECKPOINT_EVERY_MINUTES,
    checkpoint_if_due,
)
from datapolis.security.audit.signing import Checkpoint, Signer

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(
        self,
        registry: Registry,
        signer: Signer,
        *,
        every_events: int = CHECKPOINT_EVERY_EVENTS,
        every_minutes: int = CHECKPOINT_EVERY_MINUTES,
    ) -> None:
        self.registry, self.signer = registry, signer
        self.every_events, self.every_minutes = every_events, every_minutes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> Checkpoint | None:
        with self.registry.session() as session:
            return checkpoint_if_due(session, self.signer, every_events=self.every_events,
                                     every_minutes=self.every_minutes)

    def start(self, every: float = 15.0) -> None:
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.tick()
                except SQLAlchemyError as exc:  # registry away for a moment: try next time
                    log.warning("audit checkpoint not signed: %s", exc.__class__.__name__)

        self._thread = threading.Thread(target=loop, name="audit-checkpointer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
