"""`cairn dump ...` | sh recreates exactly what exists, whatever the values hold.

The dumped lines are run by a real `sh`. For the scoped attribute dumps, `cairn`
is a shell function that records the words sh hands it (fast: no process and
no database start-up per line), and the recorded words are run in-process
against a second database. The whole-database dump is replayed end to end by real `cairn`
processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cairn.cli.main import main

CAIRN_BIN = Path(sys.executable).parent

NASTY = [
    "single ' quote",
    'double " quote',
    "$HOME",
    "${HOME:-x}",
    "`id`",
    "$(rm -rf /)",
    "new\nline",
    "back\\slash \\n \\\\",
    "<a b='1'>&amp;</a> &lt;",
    "Grüße ☃ 日本",
    "-leading-dash",
    "--",
    "-",
    "",
    "trailing newline\n",
    "\n",
    "  spaces  ",
    "\ttab",
    "a=b",
    "value=x",
    "*",
    "~root",
    "!$ !! #not-a-comment",
    "%s %d %%",
    "'\"'\"'",
    "\\'",
    ";& | >x <y",
    "\r\n",
    "\x01\x7f",
]
SCOPES = {
    "global": ("attr",),
    "os": ("os", "attr", "linux"),
    "appliance": ("appliance", "attr", "compute"),
    "host": ("host", "attr", "compute-0-0"),
}
HOSTS = [
    "add host compute-0-0 appliance=compute rack=0 rank=0 cpus=8",
    "add host vm-container-0-0 appliance=vm-container rack=1 rank=2 cpus=16",
]


class At:
    """cairn in-process against one of several databases."""

    def __init__(self, url: str, capsys, monkeypatch):
        self.url, self._capsys, self._mp = url, capsys, monkeypatch

    def __call__(self, *words: str) -> tuple[int, str, str]:
        self._mp.setenv("CAIRN_DB_URL", self.url)
        self._capsys.readouterr()
        code = main(list(words))
        out, err = self._capsys.readouterr()
        return code, out, err

    def ok(self, *words: str) -> str:
        code, out, err = self(*words)
        assert code == 0, f"cairn {' '.join(words)}: {err}"
        return out


@pytest.fixture
def two_dbs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", "")
    return (
        At(f"sqlite:///{tmp_path / 'source.db'}", capsys, monkeypatch),
        At(f"sqlite:///{tmp_path / 'target.db'}", capsys, monkeypatch),
    )


@pytest.fixture
def recorder(tmp_path) -> Path:
    """Where the recording `cairn` shell function puts each argument it gets."""
    out = tmp_path / "recorded"
    out.mkdir()
    return out


# A shell function shadows any `cairn` on PATH; printf's format is fixed and
# every argument goes out byte for byte, one file per word (sh builtins only).
RECORDER = """
n=0
cairn() {
  n=$((n + 1)); i=0
  : > "$REC/$n"
  for a in "$@"; do i=$((i + 1)); printf '%s' "$a" > "$REC/$n.$i"; done
}
"""


def sh(script: str, path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    file = Path(os.environ.get("TMPDIR", "/tmp")) / f"cairn-test-{os.getpid()}-{id(script)}.sh"
    file.write_text(script, encoding="utf-8")
    environ = {**os.environ, "PATH": f"{path}:/usr/bin:/bin", **env}
    done = subprocess.run(
        ["sh", "-e", str(file)], capture_output=True, text=True, env=environ, timeout=300
    )
    file.unlink()
    assert done.returncode == 0, f"sh failed: {done.stderr}"
    return done


def recorded(script: str, recorder: Path) -> list[list[str]]:
    sh(RECORDER + script, Path("/nonexistent"), REC=str(recorder))
    argvs = []
    n = 1
    while (recorder / str(n)).exists():
        words, i = [], 1
        while (recorder / f"{n}.{i}").exists():
            words.append((recorder / f"{n}.{i}").read_bytes().decode("utf-8"))
            i += 1
        argvs.append(words)
        n += 1
    for f in recorder.iterdir():
        f.unlink()
    return argvs


def replay(argvs: list[list[str]], at: At) -> None:
    for argv in argvs:
        assert argv[:1] != ["cairn"], argv
        at.ok(*argv)


def replays_exactly(source: At, target: At, recorder: Path) -> None:
    """`cairn dump` of source, replayed line by line into an empty target,
    succeeds and gives back the same dump."""
    dumped = source.ok("dump")
    target.ok("init", "defaults=no")
    for argv in recorded(dumped, recorder):
        code, _, err = target(*argv)
        assert code == 0, f"{argv}: {err}"
    assert target.ok("dump") == dumped


def listing(at: At) -> dict[str, object]:
    """Every attribute as cairn shows it, at every scope and resolved per host."""
    seen: dict[str, object] = {}
    for scope, words in SCOPES.items():
        seen[scope] = json.loads(
            at.ok("list", *words[: 2 if scope != "global" else 1], "output-format=json")
        )
    seen["resolved"] = json.loads(at.ok("list", "host", "attr", "output-format=json"))
    return seen


def reports(at: At, host: str, names: list[str]) -> dict[str, str]:
    return {n: at.ok("report", "host", "attr", host, f"attr={n}") for n in names}


def test_recorder_sees_what_sh_passes(recorder):
    assert recorded("cairn a 'b c' \"$(printf x)\" ''\n", recorder) == [["a", "b c", "x", ""]]


def test_scoped_dumps_through_sh_recreate_every_value(two_dbs, recorder):
    source, target = two_dbs
    for db in (source, target):
        for line in HOSTS:
            db.ok(*line.split())
    names = [f"v{i:02d}" for i in range(len(NASTY))]
    for words in SCOPES.values():
        for name, value in zip(names, NASTY, strict=True):
            source.ok("set", *words, name, f"value={value}")
    for words in SCOPES.values():
        dumped = source.ok("dump", *words[:-1] if len(words) == 3 else words)
        argvs = recorded(dumped, recorder)
        assert len(argvs) >= len(NASTY)
        replay(argvs, target)
    assert listing(target) == listing(source)
    for host in ("compute-0-0", "vm-container-0-0"):
        assert reports(target, host, names) == reports(source, host, names)
    # And the values are the originals, not just equal on both sides.
    assert reports(target, "compute-0-0", names) == {
        n: v + "\n" for n, v in zip(names, NASTY, strict=True)
    }


def test_dump_host_attr_of_some_hosts(two_dbs, recorder):
    source, target = two_dbs
    for db in (source, target):
        for line in HOSTS:
            db.ok(*line.split())
    source.ok("set", "host", "attr", "compute-0-0", "a", "value=it's")
    source.ok("set", "host", "attr", "vm-container-0-0", "b", "value=2")
    argvs = recorded(source.ok("dump", "host", "attr", "compute-0-0"), recorder)
    assert argvs == [["set", "host", "attr", "host=compute-0-0", "attr=a", "value=it's"]]
    replay(argvs, target)
    assert target.ok("report", "host", "attr", "compute-0-0", "attr=a") == "it's\n"
    code, _, _ = target("report", "host", "attr", "vm-container-0-0", "attr=b")
    assert code == 1


def test_dump_of_nothing_is_empty(two_dbs):
    source, _ = two_dbs
    source.ok("init", "defaults=no")
    for words in ("dump", "dump attr", "dump os attr", "dump appliance attr", "dump host attr"):
        assert source.ok(*words.split()) == ""


WHOLE = [
    "add os linux",
    "add os ubuntu",
    "add appliance compute",
    "add appliance vm-container kvm=yes",
    "add network private subnet=10.1.0.0/16 bridge=br0",
    "add network storage subnet=10.2.0.0 netmask=255.255.255.0",
    "add host compute-0-0 appliance=compute rack=2 rank=3 cpus=8",
    "add host compute-0-1 appliance=compute os=ubuntu",
    "add host vm-container-0-0 appliance=vm-container rack=1 cpus=16",
    "add host interface compute-0-0 eth0 mac=52:54:00:00:00:01 ip=10.1.255.254 subnet=private",
    "add network v7 isolation=vlan id=7 carrier=storage",
    "add host interface compute-0-0 eth1 vlan=7 subnet=storage",
]


def test_whole_dump_through_sh_into_an_empty_database(two_dbs, recorder):
    source, target = two_dbs
    # defaults=no on both sides: the dump alone must recreate everything.
    source.ok("init", "defaults=no")
    for line in WHOLE:
        source.ok(*line.split())
    # Every scope gets its share of the nasty values (the scoped test has them all).
    names = [f"v{i:02d}" for i in range(len(NASTY))]
    scopes = list(SCOPES.values())
    for i, (name, value) in enumerate(zip(names, NASTY, strict=True)):
        source.ok("set", *scopes[i % 4], name, f"value={value}")
    dumped = source.ok("dump")
    assert "created" in target.ok("init", "defaults=no")
    replay(recorded(dumped, recorder), target)
    assert target.ok("dump") == dumped
    assert listing(target) == listing(source)
    for host in ("compute-0-0", "compute-0-1", "vm-container-0-0"):
        report = target.ok("report", "host", "attr", host)
        assert report == source.ok("report", "host", "attr", host)
    assert target.ok("report", "host", "attr", "compute-0-0", "attr=v03") == NASTY[3] + "\n"


def test_whole_dump_replayed_by_real_processes(two_dbs):
    # The same path end to end with real `sh` and real `cairn` processes (a few
    # lines only: every line starts a process).
    source, target = two_dbs
    source.ok("init", "defaults=no")
    for line in ["add os linux", "add appliance compute", "add host compute-0-0 appliance=compute"]:
        source.ok(*line.split())
    nasty = "it's \"$HOME\" `id` $(rm -rf /) \\ <x a='1'>&amp;</x>\nGrüße ☃ -x\n"
    source.ok("set", "attr", "nasty", f"value={nasty}")
    source.ok("set", "host", "attr", "compute-0-0", "empty", "value=")
    dumped = source.ok("dump")
    sh(f"cairn init defaults=no\n{dumped}", CAIRN_BIN, CAIRN_DB_URL=target.url)
    assert target.ok("dump") == dumped
    assert target.ok("report", "host", "attr", "compute-0-0", "attr=nasty") == nasty + "\n"
    assert target.ok("report", "host", "attr", "compute-0-0", "attr=empty") == "\n"


@pytest.mark.parametrize(
    "create",
    [
        pytest.param(["add", "host", "host=vm", "appliance=compute"], id="host-vm"),
        pytest.param(["add", "host", "host=attr", "appliance=compute"], id="host-attr"),
        pytest.param(["add", "host", "host=interface", "appliance=compute"], id="host-interface"),
        pytest.param(["add", "appliance", "appliance=attr"], id="appliance-attr"),
        pytest.param(["add", "os", "os=attr"], id="os-attr"),
    ],
)
def test_dump_round_trips_names_that_are_also_command_words(two_dbs, recorder, create):
    source, target = two_dbs
    source.ok("init", "defaults=no")
    source.ok("add", "os", "linux")
    source.ok("add", "appliance", "compute")
    source.ok(*create)
    replays_exactly(source, target, recorder)


KVM_CLUSTER = [
    "add os linux",
    "add appliance compute",
    "add appliance gpu",
    "add appliance hosted-vm",
    "add host gpu-1-0 appliance=gpu rack=1 rank=0",
    "add host compute-0-5 appliance=compute rack=0 rank=5",
    # Added after compute-0-5 but listed before it: ids are not host order.
    "add host compute-0-1 appliance=compute rack=0 rank=1",
    "add host interface compute-0-5 eth0 mac=52:54:00:00:05:00",
    "add host interface compute-0-1 eth10 mac=52:54:00:00:01:10",
    "add host interface compute-0-1 eth2 mac=52:54:00:00:01:02",
    # Containers only because of `kvm`, at appliance and at host scope.
    "set appliance attr gpu kvm true",
    "set host attr compute-0-5 kvm true",
    "add host vm gpu-1-0 mem=512",
    "add host vm compute-0-5 num-macs=2",
    "set host attr hosted-vm-1-0-0 kvm_autostart true",
    # A VM's interfaces beyond the first: a MAC-less one, and one with an
    # address, a network and a VLAN of its own.
    "add network ib subnet=10.3.0.0/16",
    "add network ib7 subnet=10.4.0.0/16 isolation=vlan id=7 carrier=ib",
    "add host interface gpu-1-0 ib0 ip=10.3.0.1 subnet=ib",
    "add host interface hosted-vm-1-0-0 ib0 ip=10.4.0.5 subnet=ib vlan=7",
    "add host interface hosted-vm-0-5-0 eth2",
    # A VM that is itself a container (kvm=true), named after its guest.
    "add host vm gpu-1-0 name=zz-outer num-macs=0",
    "set host attr zz-outer kvm true",
    "add host vm zz-outer name=aa-inner num-macs=0",
]


def test_whole_dump_recreates_vms_on_containers_that_kvm_true_makes(two_dbs, recorder):
    """Seed: "Running VM on different appliances". The `kvm` attributes must
    exist before the VMs they allow; the VMs' own attributes after them."""
    source, target = two_dbs
    kvm_cluster(source)
    replays_exactly(source, target, recorder)
    vms = target.ok("list", "host", "vm", "output-format=json")
    assert vms == source.ok("list", "host", "vm", "output-format=json")
    assert sorted({r["vm-host"] for r in json.loads(vms)}) == [
        "aa-inner",
        "hosted-vm-0-5-0",
        "hosted-vm-1-0-0",
        "zz-outer",
    ]
    assert target.ok("list", "host", "interface") == source.ok("list", "host", "interface")
    assert target.ok("report", "host", "attr", "hosted-vm-1-0-0", "attr=kvm_autostart") == "true\n"


def kvm_cluster(at: At) -> None:
    """KVM_CLUSTER in a database made with defaults=no."""
    at.ok("init", "defaults=no")
    for line in KVM_CLUSTER:
        at.ok(*line.split())


def test_a_vm_hosts_own_rack_rank_and_os_survive_the_dump(two_dbs, recorder):
    """`add host vm` takes them from the container; set apart later, they were lost."""
    source, target = two_dbs
    kvm_cluster(source)
    source.ok("add", "os", "other")
    source.ok("set", "host", "rack", "hosted-vm-0-5-0", "7")
    source.ok("set", "host", "rank", "hosted-vm-0-5-0", "8")
    source.ok("set", "host", "os", "hosted-vm-1-0-0", "other")
    replays_exactly(source, target, recorder)
    hosts = target.ok("list", "host", "output-format=json")
    assert hosts == source.ok("list", "host", "output-format=json")
    row = next(r for r in json.loads(hosts) if r["host"] == "hosted-vm-0-5-0")
    assert (row["rack"], row["rank"]) == (7, 8)


@pytest.mark.parametrize(
    "change",
    [
        "remove host attr compute-0-5 kvm",
        "set host attr compute-0-5 kvm false",
        "set host appliance compute-0-5 compute",  # kvm stays from host scope: allowed
        "set host appliance gpu-1-0 compute",
        "set appliance attr gpu kvm no",
        "remove appliance attr gpu kvm",
        "remove host attr zz-outer kvm",
    ],
)
def test_a_container_holding_vms_cannot_stop_being_one(two_dbs, change):
    source, _ = two_dbs
    kvm_cluster(source)
    before = source.ok("dump")
    code, _, err = source(*change.split())
    if change.startswith("set host appliance compute-0-5"):
        assert code == 0, err
        return
    assert code != 0 and err.startswith("error - host ") and err.count("\n") == 1, err
    assert "holds the VMs" in err and "must stay a VM container" in err
    assert source.ok("dump") == before
