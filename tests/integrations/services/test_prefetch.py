"""The page prefetcher keeps order, re-raises upstream errors in order, and stops cleanly."""

from __future__ import annotations

import threading

import pytest

from integrations.services.pipeline import prefetched


def test_items_arrive_in_order():
    assert list(prefetched(iter(range(50)))) == list(range(50))


def test_an_error_arrives_after_the_items_before_it():
    def pages():
        yield 1
        yield 2
        raise RuntimeError("page 3 failed")

    stream = prefetched(pages())
    assert [next(stream), next(stream)] == [1, 2]
    with pytest.raises(RuntimeError, match="page 3"):
        next(stream)


def test_stopping_early_closes_the_source_and_its_thread():
    closed = threading.Event()

    def pages():
        try:
            yield from range(1000)
        finally:
            closed.set()

    stream = prefetched(pages(), depth=1)
    assert next(stream) == 0
    stream.close()
    assert closed.wait(5)
    assert not any(t.name == "sync-prefetch" and t.is_alive() for t in threading.enumerate())
