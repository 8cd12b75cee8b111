"""How many containers a lifecycle command works on at once (`parallel=`).

By default one per container the command touches, up to MAX_WORKERS; a given
parallel= is kept. Measured on real threads: each group's work waits at a
barrier that only the number of groups expected at once can pass together.
"""

from __future__ import annotations

import threading

import pytest

from cairn.lifecycle.runner import MAX_WORKERS, run_grouped, workers

DEADLINE = 10.0


@pytest.mark.parametrize(
    ("parallel", "containers", "expected"),
    [
        (None, 1, 1),
        (None, 100, 100),
        (None, MAX_WORKERS, MAX_WORKERS),
        (None, 1000, MAX_WORKERS),
        (8, 100, 8),
        (256, 1000, 256),
        (8, 3, 3),
        (None, 0, 1),
    ],
)
def test_the_default_is_one_worker_per_container_up_to_the_bound(parallel, containers, expected):
    assert workers(parallel, containers) == expected


def at_once(groups: int, parallel: int | None) -> int:
    """The most groups whose work ran at the same moment, two jobs a group."""
    lock = threading.Lock()
    running, most = 0, 0
    together = threading.Barrier(min(groups, parallel or groups), timeout=DEADLINE)

    def work(job: tuple[int, int]) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        if job[1] == 0:  # each group's first job: wait for the others' first
            together.wait()
        with lock:
            running -= 1
        return "done"

    jobs = [(g, i) for g in range(groups) for i in range(2)]
    done = run_grouped(jobs, lambda j: str(j[0]), work, parallel=parallel)
    assert [d.error for d in done] == [None] * len(jobs)
    return most


def test_without_parallel_every_container_is_worked_on_at_once():
    assert at_once(24, None) == 24


def test_parallel_bounds_the_containers_worked_on_at_once():
    assert at_once(24, 6) == 6
