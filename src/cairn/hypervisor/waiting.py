"""Waiting for a condition on a container, by polling against time.monotonic.

Lifecycle events (a later `events` module) may replace the polling; callers
only see `wait_until`. What to wait for belongs to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable

FIRST_POLL, MAX_POLL = 0.02, 0.5  # seconds between checks: quick first, then backing off


def wait_until(done: Callable[[], bool], timeout: float) -> bool:
    """Call `done` until it returns True (-> True) or `timeout` s have passed (-> False).

    `done` is always called at least once, and once more at the deadline.
    """
    if timeout < 0:
        raise ValueError(f"timeout must be >= 0, not {timeout}")
    deadline = time.monotonic() + timeout
    pause = FIRST_POLL
    while not done():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, MAX_POLL)
    return True
