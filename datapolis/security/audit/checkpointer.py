"""A background thread in `datapolis serve` that signs checkpoints when they are due."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from datapolis.registry.db import Registry
from datapolis.security.audit.service import (
    CHECKPOINT_EVERY_EVENTS,
    CHECKPOINT_EVERY_MINUTES,
    checkpoint_if_due,
)
from datapolis.security.audit.signing import Checkpoint, Signer
from datapolis.ticker import Ticker


class Checkpointer(Ticker):
    name = "audit-checkpointer"
    failure = "audit checkpoint not signed"
    transient = (SQLAlchemyError,)

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
        super().__init__()

    def tick(self) -> Checkpoint | None:
        with self.registry.session() as session:
            return checkpoint_if_due(session, self.signer, every_events=self.every_events,
                                     every_minutes=self.every_minutes)
