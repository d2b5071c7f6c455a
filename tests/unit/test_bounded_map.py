"""``bounded_map``: in order, on several threads, never more than four per thread queued."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.pooling import bounded_map
from model.base import TransientError


def test_results_come_in_order_from_several_threads_with_a_bounded_window() -> None:
    started: list[int] = []
    threads: set[int] = set()
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
            threads.add(threading.get_ident())
        time.sleep(0.001 * (n % 3))
        return n * n

    taken = 0
    for result in bounded_map(work, range(200), workers=3):
        assert result == taken * taken
        taken += 1
        with lock:
            assert len(started) <= taken + 4 * 3  # never more than the window ahead
    assert taken == 200
    assert len(threads) > 1


def test_an_error_comes_out_at_its_turn() -> None:
    def work(n: int) -> int:
        if n == 5:
            raise TransientError("five")
        return n

    seen: list[int] = []
    with pytest.raises(TransientError, match="five"):
        for result in bounded_map(work, range(50), workers=4):
            seen.append(result)
    assert seen == [0, 1, 2, 3, 4]


def test_one_worker_runs_in_the_calling_thread() -> None:
    caller = threading.get_ident()
    assert list(bounded_map(lambda n: (n, threading.get_ident() == caller), range(3), workers=1)) == [
        (0, True),
        (1, True),
        (2, True),
    ]
