"""News of VM states as the watcher hears them, for whoever listens in this process.

The watcher (`watch.py`) publishes every lifecycle event of the containers it
watches here, and a Resync when it begins or stops watching one (what
changed while it did not watch was not heard); the web page's live stream
subscribes. Nothing here acts on a
state: what a stop means for the database is the watcher's business.
Listeners are called on the watcher's thread and must only queue the news.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("cairn.watch")


@dataclass(frozen=True)
class News:
    uri: str
    name: str
    state: str


@dataclass(frozen=True)
class Resync:
    """What is known of a container's VMs may have changed unheard: the watcher
    has just begun to watch it (again), or lost it. A listener shows it anew."""

    uri: str


Item = News | Resync
Listener = Callable[[Item], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    """Calls `listener` with every News from now on; returns what ends that."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock, contextlib.suppress(ValueError):  # ended twice
            _listeners.remove(listener)

    return unsubscribe


def publish(news: Item) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(news)
        except Exception:  # one broken listener must not silence the others
            log.exception("a listener of VM news failed")
