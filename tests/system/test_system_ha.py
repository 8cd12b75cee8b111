"""Restart elsewhere, only after fencing, on the testbed (tests/testbed.py, testbed_ha.py).

A guest marked kvm_ha, its disk on the testbed's shared directory, runs on
vm-container-0-1 and answers ping. That container's libvirtd is killed: the
frontend cannot reach it, while its QEMU goes on running the guest.

1. Without a fence plugin, after kvm_ha_dead_after nothing is restarted: the
   guest still answers from where it was, no other container defines it, and
   `list host vm status=yes` says why.
2. libvirtd back, the testbed's fence plugin installed (its BMC kills every
   process of a container), libvirtd killed again: the watcher fences the
   container and starts the guest on another one, which answers ping again.
   The time from the kill to that ping is printed.
3. The container switched on again: the watcher removes its old definition,
   and the guest runs in exactly one place.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sysdaemon import kill_hard
from test_system_testbed import BOOT, domains, processes, wait_for  # noqa: F401 (a fixture)

import testbed as tb
import testbed_ha

pytestmark = pytest.mark.system

NAME, IP = "tb-ha", "198.18.1.250"
DEAD_AFTER = 5  # seconds; kvm_ha_dead_after of the container that dies


def answers(bed: tb.Testbed, ip: str) -> bool:
    ping = ("busybox", "ping", "-c", "1", "-W", "1", ip)
    return bed.on_frontend(*ping, check=False).returncode == 0


def row(bed: tb.Testbed) -> dict[str, Any]:
    done = bed.cairn("list", "host", "vm", NAME, "status=yes", "output-format=json")
    return dict(json.loads(done.stdout)[0])


def copies(bed: tb.Testbed) -> list[str]:
    """The containers whose libvirtd answers and runs the guest."""
    return [
        s.name for s in bed.containers if bed.libvirtd_pid(s.name) and NAME in domains(bed, s.name)
    ]


def test_a_dead_container_s_kvm_ha_guest_restarts_elsewhere_only_after_fencing(
    testbed: tb.Testbed,
    processes: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    bed = testbed
    victim = tb.container_name(1)
    testbed_ha.ready(bed)
    disk = f"{testbed_ha.SHARED}/{NAME}.vda"
    try:
        bed.cairn(
            "add", "host", "vm", victim, f"name={NAME}", "mem=128", "disksize=1",
            f"disk=file:{disk},vda,virtio", f"ip={IP}", "subnet=private",
        )  # fmt: skip
        bed.cairn("set", "host", "attr", NAME, "kvm_ha", "true")
        bed.cairn("set", "host", "attr", victim, "kvm_ha_dead_after", str(DEAD_AFTER))
        bed.cairn("start", "host", "vm", NAME)
        wait_for(lambda: answers(bed, IP), f"{NAME} to answer ping at {IP}")

        # 1. No fence plugin: cut off, but nothing is restarted.
        watch = processes("watch-nofence", tb.CAIRN, "watch", "refresh=1")
        watch.wait_line(f"watching {bed.uri(victim)}", timeout=BOOT)
        pid = bed.libvirtd_pid(victim)
        assert pid is not None
        kill_hard(pid, f"libvirtd of {victim}")
        watch.wait_line("not fenced: no fence plugin", timeout=60)
        assert answers(bed, IP), "the guest stopped although nothing fenced its container"
        assert not [c for c in bed.containers if c.name != victim and NAME in
                    domains(bed, c.name, "--all")]  # fmt: skip
        said = row(bed)
        assert said["container"] == victim
        assert "not fenced: no fence plugin" in said["status"], said

        # Back: the watcher reconnects and the status goes.
        bed.start_libvirtd(victim)
        wait_for(lambda: row(bed)["status"] == "running", "the status to be running again")
        watch.interrupt()

        # 2. With the testbed's fence plugin (plugins load when the service starts).
        testbed_ha.install_fence(bed)
        watch = processes("watch-fence", tb.CAIRN, "watch", "refresh=1")
        watch.wait_line(f"watching {bed.uri(victim)}", timeout=BOOT)
        pid = bed.libvirtd_pid(victim)
        assert pid is not None
        died = time.monotonic()
        kill_hard(pid, f"libvirtd of {victim}")
        watch.wait_line(f"{NAME}: restarted on", timeout=BOOT)
        assert testbed_ha.ask(bed.root, f"status {victim}") == "off"
        wait_for(lambda: answers(bed, IP), f"{NAME} to answer ping again")
        took = time.monotonic() - died
        print(
            f"\nHA: {NAME} answered ping again {took:.1f} s after its container's libvirtd"
            f" died (kvm_ha_dead_after {DEAD_AFTER} s)"
        )
        said = row(bed)
        assert said["container"] != victim and said["status"] == "running", said
        assert copies(bed) == [said["container"]]

        # 3. The old container comes back, to a service started since (it knows
        # from the database what to look for): its stale definition goes.
        assert watch.interrupt().count(f"{NAME}: restarted on") == 1
        watch = processes("watch-after", tb.CAIRN, "watch", "refresh=1")
        watch.wait_line(f"cannot reach container {victim}", timeout=BOOT)
        bed.apply_profile(bed.container(victim))
        wait_for(lambda: NAME not in domains(bed, victim, "--all"), "the old copy to be removed")
        assert f"{NAME}: removed its old copy on {bed.uri(victim)}" in watch.text()
        assert copies(bed) == [said["container"]]
        assert answers(bed, IP)
        assert f"{NAME}: restarted on" not in watch.text()
    finally:
        if bed.libvirtd_pid(victim) is None:
            bed.apply_profile(bed.container(victim))
        for attr in ("kvm_ha_dead_after", "kvm_ha_status"):
            bed.cairn("remove", "host", "attr", victim, attr, check=False)
        bed.forget_vms(NAME)
        Path(bed.root / "shared" / f"{NAME}.vda").unlink(missing_ok=True)
