"""prefetched(): same items in order, bounded look-ahead, errors and early stops handled."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from valgus.runtime.prefetch import prefetched


def test_yields_all_items_in_order() -> None:
    assert list(prefetched(range(1000), depth=3)) == list(range(1000))


def test_look_ahead_is_bounded() -> None:
    produced: list[int] = []
    release = threading.Event()

    def source() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    it = prefetched(source(), depth=2)
    assert next(it) == 0
    # The producer can hold at most `depth` items in the queue plus one in hand.
    for _ in range(50):
        if len(produced) >= 4:
            break
        release.wait(0.01)
    assert len(produced) <= 4
    it.close()


def test_producer_error_reaches_the_consumer() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError("broken frame")

    it = prefetched(source())
    assert next(it) == 1
    with pytest.raises(ValueError, match="broken frame"):
        next(it)


def test_stopping_early_closes_the_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(10_000)
        finally:
            closed.set()

    for i in prefetched(source(), depth=2):
        if i == 5:
            break
    assert closed.wait(2.0)
    assert not any(t.name == "valgus-prefetch" for t in threading.enumerate())


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        list(prefetched([1], depth=0))
