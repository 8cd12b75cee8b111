"""The tenant's commands (`... key=FILE airboss=HOST:PORT`) through conftest.py's
real Airboss, with real signatures: they run in the cairn process itself, with
no service or database of the tenant's, and do what root's commands do, on the
key's cluster only; a refusal is one `error - ` line and changes nothing."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from cairn.cli import tree


def _tenant(lab, tenant, *words: str):
    return lab.cli(*words, f"key={tenant.key}", f"airboss={lab.address}")


def _json(lab, tenant, *words: str) -> list[dict]:
    import json

    done = _tenant(lab, tenant, *words, "output-format=json")
    assert done.code == 0, done.err
    return json.loads(done.out)


def test_the_owner_powers_a_vm_on_and_off_as_root_would(lab) -> None:
    on = _json(lab, lab.owner, "set", "host", "power", "vc-compute-0", "action=on")
    assert on == [
        {"host": "vc-compute-0", "container": "vm-container-0-1", "result": "started", "detail": ""}
    ]
    assert lab.hv.lookupByName("vc-compute-0").isActive()
    off = _json(lab, lab.owner, "set", "host", "power", "vc-compute-0", "action=off")
    assert [(r["host"], r["result"]) for r in off] == [("vc-compute-0", "stopped")]
    assert not lab.hv.lookupByName("vc-compute-0").isActive()
    assert [(a["op"], a["result"]) for a in lab.audit()] == [
        ("power", "accepted"),
        ("power", "accepted"),
    ]


def test_the_owner_installs_its_computes_and_not_its_frontend(lab) -> None:
    lab.cli.ok("set", "host", "boot", "vc*", "action=os")
    rows = _json(lab, lab.owner, "set", "cluster", "power", "vc", "action=install", "delay=0")
    assert [r["host"] for r in rows] == ["vc-compute-0", "vc-compute-1"]
    boots = {r["host"]: r["action"] for r in lab.rows("list", "host", "boot", "vc*")}
    assert boots == {"vc": "os", "vc-compute-0": "install", "vc-compute-1": "install"}
    assert "vc" not in _running(lab)
    off = _json(lab, lab.owner, "set", "cluster", "power", "vc", "action=off")
    assert {r["result"] for r in off} == {"stopped"}


def _running(lab) -> set[str]:
    return {d.name() for d in lab.hv.listAllDomains(0) if d.isActive()}


def test_the_owner_lists_its_macs_as_root_sees_them(lab) -> None:
    lab.cli.ok("start", "host", "vm", "vc-compute-1")
    for status in ("status=no", "status=yes"):
        mine = _json(lab, lab.owner, "list", "host", "macs", "vc", status)
        assert mine == lab.rows("list", "host", "macs", "vc", status)
    plain = _tenant(lab, lab.owner, "list", "host", "macs", "vc", "output-header=no")
    assert len(plain.out.splitlines()) == 3


def test_the_owner_changes_a_cdrom_only_to_an_iso_offered(lab, tmp_path) -> None:
    iso = lab.isos / "rescue.iso"
    iso.write_bytes(b"\0" * 2048)
    done = _tenant(lab, lab.owner, "set", "host", "vm", "cdrom", "vc-compute-0", f"cdrom={iso}")
    assert (done.code, done.err) == (0, "")
    assert lab.rows("list", "host", "vm", "vc-compute-0")[0]["cdrom"] == str(iso)
    (tmp_path / "secret.iso").write_bytes(b"s")
    (lab.isos / "leak.iso").symlink_to(tmp_path / "secret.iso")
    before = lab.state()
    for path in (tmp_path / "secret.iso", lab.isos / "leak.iso"):
        refused = _tenant(
            lab, lab.owner, "set", "host", "vm", "cdrom", "vc-compute-0", f"cdrom={path}"
        )
        assert refused.code == 1
        assert refused.err.startswith("error - ") and refused.err.count("\n") == 1
        assert "not under a directory open to tenants" in refused.err
    assert lab.state() == before


@pytest.mark.parametrize(
    "words",
    [
        ("set", "host", "power", "vc-compute-0", "action=off"),
        ("set", "cluster", "power", "vc", "action=off"),
        ("list", "host", "macs", "vc"),
        ("set", "host", "vm", "cdrom", "vc-compute-0", "cdrom=none"),
        ("open", "host", "console", "vc-compute-0"),
    ],
    ids=lambda w: " ".join(w[:4]),
)
def test_another_clusters_key_is_refused_in_one_line_changing_nothing(lab, words) -> None:
    lab.cli.ok("start", "host", "vm", "vc-compute-0")
    before = lab.state()
    done = _tenant(lab, lab.other, *words)
    assert done.code == 1
    assert done.err.startswith("error - ") and done.err.count("\n") == 1
    assert "is a VM of another cluster, not of yours" in done.err
    assert lab.state() == before
    assert lab.audit()[-1]["result"] == "refused"


def test_an_unreachable_airboss_is_one_line(lab) -> None:
    done = lab.cli("list", "host", "macs", "vc", f"key={lab.owner.key}", "airboss=127.0.0.1:1")
    assert done.code == 1
    assert done.err.startswith("error - cannot reach the Airboss at 127.0.0.1:1")


_PROBE = """
import sys
from cairn.service.client import main
code = main(sys.argv[1:])
heavy = {'sqlalchemy', 'psycopg', 'libvirt', 'lxml', 'aiohttp'}
print("HEAVY", sorted(heavy & {m.split('.')[0] for m in sys.modules}), code)
"""


def test_a_tenant_command_runs_in_the_client_with_no_database(lab, tmp_path) -> None:
    """The tenant has no cairn database nor service: the `cairn` process signs
    and sends the request itself, importing none of the heavy libraries, and
    makes no database or socket of its own."""
    runtime = tmp_path / "run"
    env = {
        **os.environ,
        "CAIRN_DB_URL": f"sqlite:///{tmp_path / 'absent' / 'cairn.db'}",
        "CAIRN_RUNTIME_DIR": str(runtime),
        "CAIRN_SERVICE": "",
    }
    env.pop("CAIRN_SOCKET", None)
    words = ["set", "host", "power", "vc-compute-1", "action=on"]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *words, f"key={lab.owner.key}", f"airboss={lab.address}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "HEAVY [] 0"
    assert "vc-compute-1" in done.stdout
    assert lab.hv.lookupByName("vc-compute-1").isActive()
    assert not (tmp_path / "absent").exists() and not runtime.exists()


def _tenant_examples() -> list:
    return [
        pytest.param(example.command, id=" ".join(words))
        for words in tree.all_commands()
        for example in tree.load(words).examples
        if "airboss=" in example.command
    ]


@pytest.mark.parametrize("command", _tenant_examples())
def test_every_tenant_example_runs_through_a_real_airboss(lab, command: str) -> None:
    """Help examples with key= (left out of test_cmd_examples.py, which has no
    Airboss) run here, on cluster lab, with the key they name bound to it."""
    if command.startswith("cairn open host console"):
        pytest.skip("libvirt's test driver has no consoles (the refusal is tested above)")
    if command.startswith("cairn report web"):
        pytest.skip("needs the web page on: tests/unit/web/test_web_tenant.py runs it")
    lab.cli.ok("add", "cluster", "lab", "computes=1", "subnet=198.19.10.0/24", "mem=64",
               "public=none")  # fmt: skip
    lab.cli.ok("create", "keys", "key=~/.cairn/lab-owner", "passphrase=no")
    lab.cli.ok("add", "host", "key", "lab", "key=~/.cairn/lab-owner.pub")
    (lab.isos / "rescue.iso").write_bytes(b"\0")
    line = command.replace("airboss=127.0.0.1", f"airboss={lab.address}")
    line = line.replace("/srv/iso/", f"{lab.isos}/")
    done = lab.cli(*shlex.split(line)[1:])
    assert done.code == 0, f"{line}: {done.err}"
    assert [a["result"] for a in lab.audit()][-1:] == ["accepted"]


def test_a_tenant_line_in_a_batch_through_the_service_is_refused(lab) -> None:
    """A batch runs in the service, which is not the user's cairn process: a
    key= line there is refused, the lines before it kept, nothing of it done."""
    import servicekit

    if servicekit.IN_PROCESS:
        pytest.skip("in-process, a batch runs in the cairn process itself")
    lines = (
        "set host boot vc-compute-1 action=os\n"
        f"set host power vc-compute-0 action=on key={lab.owner.key} airboss={lab.address}\n"
    )
    done = lab.cli.process(input=lines)
    assert done.code == 2
    assert done.err == (
        "error - line 2: key= makes this a request of the cairn client itself, which a batch"
        " or the JSON API is not: run it as a command line of its own\n"
    )
    assert "vc-compute-0" not in _running(lab)
    assert lab.audit() == []


def test_a_key_with_a_passphrase_and_no_terminal_is_one_line(lab, tmp_path) -> None:
    from cairn.airboss import keys

    locked = tmp_path / "locked"
    keys.generate(locked, passphrase="correct horse")
    done = lab.cli.process(
        "list", "host", "macs", "vc", f"key={locked}", f"airboss={lab.address}", input=""
    )
    assert done.code == 1
    assert done.err == (
        f"error - the private key {locked} needs its passphrase, and there is no terminal\n"
    )
    assert lab.audit() == []  # nothing was sent
