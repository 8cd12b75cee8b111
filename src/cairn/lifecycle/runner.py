"""Running per-VM work in parallel across containers, one container's VMs in turn.

Workers get plain data (never the database session, which is not
thread-safe) and return a result or the error of the step that failed.

How many containers are worked on at once (`workers`): what the command was
told (parallel=), else one per container it touches, up to MAX_WORKERS. A
container's VMs go in turn over its one connection, so a container more at
once is a thread more, and nothing else: the connections (one per container,
kept by the service) and their file descriptors are the same at any parallel=.
A fixed default (8) left a bulk start over 100 containers waiting on the 8
busiest (2.1x the same starts done side by side with libvirt-python, 1.09x
with one worker per container: docs/scale.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from cairn.errors import CairnError

J = TypeVar("J")
# The most threads one command drives containers with by default. A thread
# costs the service 8 MiB of address space (its stack, reserved, not touched)
# and about 20 KiB resident (measured: 128 idle threads, 2.3 MiB); no file
# descriptor. 128 of them for each of several bulk commands at once stay far
# below the tasks systemd allows a service by default (DefaultTasksMax, 15% of
# pid_max: 4,915 with the kernel's 32,768), and beyond that many the threads
# would only queue for the one interpreter lock of the service: a worker spends
# most of a start waiting for its container. parallel= may ask up to 256.
MAX_WORKERS = 128
Progress = Callable[[int, int, str], None]


def no_progress(_done: int, _total: int, _label: str) -> None:
    pass


@dataclass
class Outcome:
    """One row of a lifecycle command's result table."""

    vm: str
    container: str
    result: str  # what happened: started, stopped, failed, ...
    detail: str = ""
    failed: bool = False

    def row(self) -> tuple[str, str, str, str]:
        return (self.vm, self.container, self.result, self.detail)


class StepError(CairnError):
    """A failure at a named step of a VM's lifecycle work."""

    def __init__(self, step: str, cause: BaseException):
        self.step = step
        self.cause = cause
        super().__init__(f"{step}: {cause}")


@dataclass
class Done(Generic[J]):
    job: J
    result: str | None = None
    error: CairnError | None = None


def workers(parallel: int | None, containers: int) -> int:
    """Threads for work on `containers` containers: `parallel` if given, else one
    per container up to MAX_WORKERS; never more than containers, never none."""
    return max(1, min(parallel or MAX_WORKERS, containers))


def run_grouped(
    jobs: Sequence[J],
    group: Callable[[J], str],
    work: Callable[[J], str],
    *,
    parallel: int | None = None,
    progress: Progress = no_progress,
    label: Callable[[J], str] = str,
) -> list[Done[J]]:
    """Run `work` on every job; jobs of one group run in turn, groups in parallel."""
    groups: dict[str, list[J]] = {}
    for job in jobs:
        groups.setdefault(group(job), []).append(job)
    results: dict[int, Done[J]] = {}
    lock = threading.Lock()
    total = len(jobs)

    def one_group(members: list[J]) -> None:
        for job in members:
            try:
                done = Done(job, result=work(job))
            except CairnError as exc:
                done = Done(job, error=exc)
            except Exception as exc:  # a bug or an unexpected libvirt state: report, go on
                done = Done(job, error=CairnError(f"{type(exc).__name__}: {exc}"))
            with lock:
                results[id(job)] = done
                progress(len(results), total, label(job))

    if groups:
        with ThreadPoolExecutor(max_workers=workers(parallel, len(groups))) as pool:
            for future in [pool.submit(one_group, m) for m in groups.values()]:
                future.result()
    return [results[id(job)] for job in jobs]
