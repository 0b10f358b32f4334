"""Read ahead: the next batch is fetched from the source while the caller writes this one.

Drivers that decode in C (ADBC, Arrow casts) release the GIL, so the network read and the
warehouse write overlap. The queue is bounded: memory stays flat in the table size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Generator[T, None, None], depth: int = 2) -> Iterator[T]:
    """Iterate `items` in a worker thread, at most `depth` items ahead of the consumer."""
    handoff: queue.Queue[tuple[object, T | BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: object, value: T | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                handoff.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put(_END, None)
        except BaseException as exc:  # handed to the consumer, raised there
            put("error", exc)
        finally:
            items.close()

    worker = threading.Thread(target=produce, name="source-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind is _END:
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
