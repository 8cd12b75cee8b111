"""Example plugin_fence for the testbed (tests/testbed.py): power a container off
through the testbed's stand-in for a BMC.

The testbed's containers are namespaces on one machine; the frontend, where
cairn's watcher runs, cannot see their processes. So the testbed runs a small
BMC outside every namespace, on the Unix socket bmc.sock in its directory:
asked "off vm-container-0-N", it kills every process of that container (its
libvirtd, virtlogd and QEMU: the guests stop as with the power cut) and says
"off" once none is left; "status NAME" says "on" or "off". The container's
namespaces stay, so `Testbed.power_on` brings its daemons back.

This plugin asks for "off" and answers True only when the BMC says "off". It
finds the socket from where it is installed: the testbed's plugin dir is
<testbed>/plugins, so this file is <testbed>/plugins/watch/plugin_fence.py.

Install (the system test does): copy to <testbed>/plugins/watch/plugin_fence.py,
mode 0644, and restart the frontend's cairn service (plugins load when it starts).
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from cairn.errors import CairnError

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
TIMEOUT = 60  # seconds the BMC may take to switch a container off


def run(*, container, uri, attrs, **_):
    if not NAME.fullmatch(container):
        raise CairnError(f"{container!r} is not a testbed container's name")
    bmc = Path(__file__).resolve().parents[2] / "bmc.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(TIMEOUT)
        try:
            conn.connect(str(bmc))
            conn.sendall(f"off {container}\n".encode())
            answer = conn.makefile().readline().strip()
        except OSError as exc:
            raise CairnError(f"the testbed's BMC at {bmc}: {exc}") from None
    if answer != "off":
        raise CairnError(f"the testbed's BMC did not switch {container} off: {answer}")
    return True
