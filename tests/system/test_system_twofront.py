"""Two frontends on one PostgreSQL database, watching the same containers (issue
22, part 5), on the session's testbed (tests/frontkit.py says how it is made).

Each frontend runs its own cairn service (`cairn watch`, for good) on the same
database. Shown here:
- both answer commands, and see what the other wrote;
- VMs added from both at once never share a name, a slice or a MAC: the
  allocation lock (db/locks.py) queues the choices, no command fails;
- a VM that stops by itself is disallocated exactly once: both watchers get
  the event, one releases it under the row lock, the other finds it released;
- killing one frontend's service (SIGKILL) loses nothing: the other answers
  commands and goes on watching (a VM that stops then is released by it), and
  the killed one, started again, reconciles as after a reconnect, releasing
  nothing twice. The commands each answers while the other is dead are counted.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import frontkit
import testbed as tb
import testkit
from frontkit import Front, Resident

pytestmark = pytest.mark.system

BOOT = 300.0
WINDOW = 10.0  # seconds of commands counted on one frontend while the other is dead
_DISALLOCATE = """
import os
def run(*, session, vm, reason, **_):
    with open({log!r}, "a") as f:
        f.write(f"disallocate {{vm.host.name}} by {{os.uname().nodename}} ({{reason}})\\n")
"""


class Two:
    def __init__(self, one: Front, two: Front, log: Path) -> None:
        self.one, self.two, self.log = one, two, log
        self.watch: dict[str, Resident] = {}

    def released(self, vm: str | None = None) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [ln for ln in lines if vm is None or ln.startswith(f"disallocate {vm} ")]

    def vms(self, front: Front) -> list[dict[str, Any]]:
        return list(json.loads(front.cairn("list", "host", "vm", "output-format=json").stdout))


@pytest.fixture(scope="module")
def two(_testbed: tb.Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Two]:
    if testkit.PG_ADMIN_URL is None:
        pytest.skip("PostgreSQL not configured (CAIRN_TEST_PG_URL); scripts/test.sh sets it")
    if shutil.which("socat") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and socat is missing (scripts/setup.sh installs it)")
        pytest.skip("socat is missing (apt-get install socat)")
    bed = _testbed
    logs = tmp_path_factory.mktemp("twofront")
    logs.chmod(0o755)
    second = None
    relay = None
    with testkit.new_database("postgresql", logs) as admin_url:
        try:
            relay, socket_dir = frontkit.relay(bed.root, testkit.PG_ADMIN_URL)
            url = frontkit.space_url(testkit.PG_ADMIN_URL, admin_url.rsplit("/", 1)[1], socket_dir)
            one = Front(bed.root, bed.frontend, bed.containers, url,
                        frontkit.configure(bed.root, "one", url))  # fmt: skip
            one._inventory(len(bed.containers))
            second = frontkit.second_frontend(bed)
            two_ = Front(bed.root, second, bed.containers, url,
                         frontkit.configure(bed.root, "two", url))  # fmt: skip
            bed.plugin("stop", "disallocate", _DISALLOCATE.format(log=str(logs / "plugins.log")))
            made = Two(one, two_, logs / "plugins.log")
            yield made
        finally:
            if second is not None:
                frontkit.end_space(second)
            if relay is not None:
                relay.terminate()
                relay.wait(timeout=30)
            bed.forget_plugins()
            bed.forget_vms("tb-*")


@pytest.fixture
def watching(two: Two, tmp_path: Path) -> Iterator[Two]:
    """Each frontend's service (`cairn watch`) for this test: the suite stops every
    service a test started when it ends."""
    tmp_path.chmod(0o755)
    try:
        for name, front in (("one", two.one), ("two", two.two)):
            two.watch[name] = Resident(front, tmp_path / f"{name}.log")
        for resident in two.watch.values():
            resident.wait_line("listening on", timeout=BOOT)
        yield two
    finally:
        for resident in two.watch.values():
            resident.end()
        two.watch.clear()


def test_both_frontends_answer_and_see_what_the_other_wrote(watching: Two) -> None:
    two = watching
    two.one.cairn("set", "host", "attr", tb.container_name(0), "tb_from", "one")
    two.two.cairn("set", "host", "attr", tb.container_name(1), "tb_from", "two")
    for front in (two.one, two.two):
        said = front.cairn("report", "host", "attr", tb.container_name(0), "attr=tb_from").stdout
        assert said.strip() == "one"
        said = front.cairn("report", "host", "attr", tb.container_name(1), "attr=tb_from").stdout
        assert said.strip() == "two"
    for front in (two.one, two.two):
        front.cairn("remove", "host", "attr", tb.container_name(0), "tb_from", check=False)
        front.cairn("remove", "host", "attr", tb.container_name(1), "tb_from", check=False)


def test_vms_added_from_both_at_once_share_no_name_slice_or_mac(watching: Two) -> None:
    two = watching

    def add(front: Front, i: int) -> str:
        done = front.cairn("add", "host", "vm", tb.container_name(i % 2), "mem=64", "disksize=1",
                           check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(add, front, i) for i in range(8) for front in (two.one, two.two)]
        for job in jobs:
            job.result()
    try:
        vms = [r for r in two.vms(two.one) if r["vm-host"].startswith("hosted-vm-")]
        assert len(vms) == 16, vms
        names = [r["vm-host"] for r in vms]
        slices = [(r["container"], r["slice"]) for r in vms]
        assert len(set(names)) == 16 and len(set(slices)) == 16, vms
        rows = json.loads(two.two.cairn("list", "host", "interface", "output-format=json").stdout)
        macs = [r["mac"] for r in rows if r["host"] in names]
        assert len(macs) == 16 and len(set(macs)) == 16, rows
    finally:
        two.one.cairn("remove", "host", "hosted-vm-*", check=False)


def _start(two: Two, *names: str) -> dict[str, str]:
    """Add and start `names` (from frontend one) on containers 0-3; {vm: container}."""
    two.one.cairn_batch(
        [["add", "host", "vm", tb.container_name(i % 4), f"name={n}", "mem=128", "disksize=1"]
         for i, n in enumerate(names)]
    )  # fmt: skip
    two.two.cairn("start", "host", "vm", *names)
    where = {r["vm-host"]: r["container"] for r in two.vms(two.two) if r["vm-host"] in names}
    for container in set(where.values()):
        for resident in two.watch.values():
            resident.wait_line(f"watching {two.one.uri(container)}", timeout=BOOT)
    return where


def _destroy(two: Two, where: dict[str, str], vm: str) -> None:
    """The VM stops by itself, as far as cairn knows: destroyed on its container."""
    two.one.container(where[vm]).run("virsh", "destroy", vm)


def test_a_vm_that_stops_by_itself_is_disallocated_exactly_once(watching: Two) -> None:
    two = watching
    names = ("tb-two-a", "tb-two-b")
    where = _start(two, *names)
    for vm in names:
        _destroy(two, where, vm)
        # Both watchers handle the event: one releases, the other finds it released.
        testkit.wait_for(
            lambda vm=vm: (
                sum(
                    r.count(f"{vm}: disallocated (") + r.count(f"{vm}: released already (")
                    for r in two.watch.values()
                )
                >= 2
            ),
            f"both watchers to handle {vm}'s stop:\n"
            + "\n".join(r.text()[-1500:] for r in two.watch.values()),
            BOOT,
        )
        assert len(two.released(vm)) == 1, two.released()
        assert sum(r.count(f"{vm}: disallocated (") for r in two.watch.values()) == 1
    two.one.cairn("remove", "host", "tb-two-*")


@pytest.mark.parametrize("killed", ["one", "two"])
def test_killing_one_frontends_service_loses_nothing_and_it_reconciles_when_back(
    watching: Two, killed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    two = watching
    alive = "two" if killed == "one" else "one"
    front = {"one": two.one, "two": two.two}
    names = (f"tb-kill-{killed}-a", f"tb-kill-{killed}-b")
    where = _start(two, *names)
    before = len(two.released())
    two.watch[killed].kill()
    # The other answers commands and goes on watching: a VM stopping now is released by it.
    answered, failed = frontkit.answered(front[alive], ["list", "host", "vm", "status=yes"], WINDOW)
    assert answered > 0 and failed == 0, (answered, failed)
    gone = names[0]
    _destroy(two, where, gone)
    testkit.wait_for(lambda: len(two.released(gone)) == 1, f"{alive} to release {gone}", BOOT)
    assert f" by {front[alive].frontend.name} " in two.released(gone)[0], two.released(gone)
    # The killed one, started again, reconciles: it watches again and releases nothing twice.
    log = two.watch[killed].log
    seen = {c: two.watch[killed].count(f"watching {two.one.uri(c)}\n") for c in where.values()}
    two.watch[killed] = Resident(front[killed], log)
    for container, count in seen.items():
        two.watch[killed].wait_line(f"watching {two.one.uri(container)}\n", count + 1, BOOT)
    assert len(two.released(gone)) == 1, two.released()
    assert len(two.released()) == before + 1, two.released()
    rows = {r["vm-host"]: r for r in two.vms(front[killed]) if r["vm-host"] in names}
    assert set(rows) == set(names), rows
    listed = front[killed].cairn("list", "host", "vm", names[1], "status=yes", "output-format=json")
    assert [r["status"] for r in json.loads(listed.stdout)] == ["running"], listed.stdout
    with capsys.disabled():
        print(
            f"\n  frontend {alive} answered {answered} commands in {WINDOW:.0f} s"
            f" (0 failed) while frontend {killed}'s service was killed"
        )
    two.one.cairn("stop", "host", "vm", names[1], "action=poweroff")
    two.one.cairn("remove", "host", f"tb-kill-{killed}-*")
