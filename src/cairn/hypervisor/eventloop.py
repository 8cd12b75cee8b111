"""libvirt's default event loop, run once per process in a daemon thread.

Registered before a connection opens, it lets libvirt watch the connection's
socket: domain events and keepalives are delivered (`events`), and a
connection whose daemon went away (a libvirtd restarted) is seen closed
(`isAlive`), so a process that keeps its connections (the cairn service:
`connections.keep_open`) opens a new one instead of failing on the dead one.
A console runs the loop itself (`console`), in a process that keeps nothing.

The one registration is `register`: libvirt's loop is process-wide, so a
console in the service (the Airboss's) uses the loop `start_loop` registered.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_registered = False
_started = False


def register() -> None:
    """Register libvirt's default event loop, once per process; before any
    connection opens, or a remote one never reports its events or streams."""
    global _registered
    with _lock:
        if not _registered:
            libvirt.virEventRegisterDefaultImpl()
            _registered = True


def start_loop() -> None:
    """Register the loop and run it in a daemon thread, once per process."""
    global _started
    register()
    with _lock:
        if _started:
            return

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _started = True
