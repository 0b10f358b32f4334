from __future__ import annotations

import threading
from collections.abc import Generator

import pytest

from datapolis.ingest.sources._readahead import read_ahead


def test_items_arrive_in_order_and_errors_reach_the_consumer() -> None:
    def produce() -> Generator[int, None, None]:
        yield 1
        yield 2
        raise ConnectionResetError("source went away")

    got = []
    with pytest.raises(ConnectionResetError, match="went away"):
        for item in read_ahead(produce()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_closes_the_producer() -> None:
    closed = threading.Event()

    def endless() -> Generator[int, None, None]:
        try:
            number = 0
            while True:
                number += 1
                yield number
        finally:
            closed.set()

    stream = read_ahead(endless(), depth=2)
    assert [next(stream), next(stream)] == [1, 2]
    stream.close()  # type: ignore[attr-defined]
    assert closed.wait(5)
    assert not [t for t in threading.enumerate() if t.name == "source-read-ahead"]
