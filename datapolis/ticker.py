"""A unit of background work that `datapolis serve` repeats on a daemon thread.

Subclasses define `tick` (what the tests drive directly), the thread's `name`, which errors one
tick may raise without ending the loop (`transient`) and how that is logged (`failure`).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import ClassVar

log = logging.getLogger(__name__)


class Ticker(ABC):
    name: ClassVar[str] = "datapolis-ticker"
    failure: ClassVar[str] = "background tick failed"
    transient: ClassVar[tuple[type[Exception], ...]] = (Exception,)
    every: ClassVar[float] = 15.0  # seconds between ticks, unless start() is told otherwise
    stop_timeout: ClassVar[float] = 10.0  # how long stop() waits for a tick under way

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def tick(self) -> object:
        """One round of the work; what it returns is for the tests that drive it."""

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self, every: float | None = None) -> None:
        pause = self.every if every is None else every

        def loop() -> None:
            while not self._stop.wait(pause):
                try:
                    self.tick()
                except self.transient as exc:  # e.g. the registry away a moment: next time
                    log.warning("%s: %s", self.failure, exc.__class__.__name__, exc_info=True)

        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking; a tick under way finishes first (waited for up to stop_timeout)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.stop_timeout)
