"""libvirt's default event loop, run once per process in a daemon thread.

Registered before a connection opens, it lets libvirt watch the connection's
socket: domain events and keepalives are delivered (`events`), and a
connection whose daemon went away (a libvirtd restarted) is seen closed
(`isAlive`), so a process that keeps its connections (the cairn service:
`connections.keep_open`) opens a new one instead of failing on the dead one.
A console runs the loop itself (`console`), in a process that keeps nothing.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_started = False


def start_loop() -> None:
    global _started
    with _lock:
        if _started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _started = True
