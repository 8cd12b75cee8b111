"""libvirt's default event loop is registered once per process (one place:
cairn.hypervisor.eventloop), whether a console or the service's loop thread
asks first. Each case runs in a fresh interpreter: the registration is
process-wide and this one may have made it already."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Counts the calls to libvirt's own registration, which it still makes.
SCRIPT = """
import libvirt

calls = []
real = libvirt.virEventRegisterDefaultImpl

def counted():
    calls.append(1)
    return real()

libvirt.virEventRegisterDefaultImpl = counted
from cairn.hypervisor import eventloop

for step in STEPS:
    getattr(eventloop, step)()
conn = libvirt.open("test:///default")  # a connection opens with the loop in place
conn.close()
print(len(calls))
"""


@pytest.mark.parametrize(
    "steps",
    [
        ["register", "start_loop"],  # a console first, then the service's thread
        ["start_loop", "register"],  # the Airboss's console in the service
        ["start_loop", "start_loop", "register", "register"],
    ],
)
def test_the_event_loop_is_registered_once(steps: list[str]) -> None:
    code = textwrap.dedent(SCRIPT).replace("STEPS", repr(steps))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
