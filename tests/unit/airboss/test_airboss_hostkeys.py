"""Tenant keys from the command line: `create keys key=` (a pair made in the
cairn process, with no service or database), `add|list|remove host key` (root
binds keys to a virtual cluster's frontend VM, refusals change nothing), and
`dump` replaying them into a fresh database. The lab is conftest.py's: the
owner's key bound to vc, the other's to wc."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cairn.airboss import keys


def _listed(lab, *frontend: str) -> list[tuple[str, str, str, str]]:
    return [
        (r["host"], r["algorithm"], r["fingerprint"], r["comment"])
        for r in lab.rows("list", "host", "key", *frontend)
    ]


def test_create_keys_makes_a_pair_and_prints_the_public_key(lab, tmp_path) -> None:
    path = tmp_path / "mine" / "owner"
    out = lab.cli.ok("create", "keys", f"key={path}", "passphrase=no")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert out == path.with_name("owner.pub").read_text()
    public = keys.parse_public(out)
    assert public.algorithm == "ssh-ed25519"
    assert keys.load_private(path).public_key() == public.key
    rsa_path = tmp_path / "mine" / "rocks"
    out = lab.cli.ok("create", "keys", f"key={rsa_path}", "passphrase=no", "kind=rsa", "bits=2048")
    assert keys.parse_public(out).key.key_size == 2048  # type: ignore[union-attr]
    again = lab.cli("create", "keys", f"key={path}", "passphrase=no")
    assert (
        again.code == 1
        and again.err == f"error - {path} exists: remove it or choose another key=\n"
    )


def test_create_keys_without_a_terminal_wants_passphrase_no(lab, tmp_path) -> None:
    done = lab.cli.process("create", "keys", f"key={tmp_path / 'k'}", input="")
    assert done.code == 1
    assert done.err.startswith("error - there is no terminal to ask for the key's passphrase")
    assert not (tmp_path / "k").exists() and not (tmp_path / "k.pub").exists()


_PROBE = """
import sys
from cairn.service.client import main
code = main(sys.argv[1:])
heavy = {'sqlalchemy', 'psycopg', 'libvirt', 'lxml', 'aiohttp'}
print("HEAVY", sorted(heavy & {m.split('.')[0] for m in sys.modules}), code)
"""


def test_create_keys_key_runs_here_with_no_service_nor_database(tmp_path) -> None:
    """The cairn client makes the pair itself: it starts no service, opens no
    database (there is none to open) and imports none of the heavy libraries."""
    runtime = tmp_path / "run"
    env = {
        **os.environ,
        "CAIRN_DB_URL": f"sqlite:///{tmp_path / 'absent' / 'cairn.db'}",
        "CAIRN_RUNTIME_DIR": str(runtime),
        "CAIRN_SERVICE": "",
    }
    env.pop("CAIRN_SOCKET", None)
    key = tmp_path / "owner"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "create", "keys", f"key={key}", "passphrase=no"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "HEAVY [] 0"
    assert key.exists() and not (tmp_path / "absent").exists() and not runtime.exists()


def test_add_host_key_binds_several_keys_to_a_frontend(lab, tmp_path) -> None:
    second = lab.tenant("second")
    out = lab.rows("add", "host", "key", "vc", f"key={second.key}.pub")
    assert [(r["host"], r["fingerprint"]) for r in out] == [("vc", second.fingerprint)]
    line = f"{second.public.openssh} laptop"
    third = lab.tenant("third")
    lab.cli.ok("add", "host", "key", "wc", f"key={third.public.openssh} laptop")
    assert _listed(lab) == [
        ("vc", "ssh-ed25519", lab.owner.fingerprint, lab.owner.public.comment),
        ("vc", "ssh-ed25519", second.fingerprint, "second"),
        ("wc", "ssh-ed25519", lab.other.fingerprint, lab.other.public.comment),
        ("wc", "ssh-ed25519", third.fingerprint, "laptop"),
    ]
    assert _listed(lab, "wc") == _listed(lab)[2:]
    # The second key now drives vc through the Airboss, as the owner's does.
    assert {r["host"] for r in lab.call(second, "macs", "vc")} == {
        "vc", "vc-compute-0", "vc-compute-1"
    }  # fmt: skip
    again = lab.cli("add", "host", "key", "vc", f"key={line}")
    assert again.code == 1 and "is bound to vc already" in again.err


def _weak_keys(tmp_path) -> dict[str, str]:
    """Public key files of kinds the Airboss refuses."""
    made = {}
    for name, private in (
        ("rsa1024", rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        ("ecdsa", ec.generate_private_key(ec.SECP256R1())),
    ):
        path = tmp_path / f"{name}.pub"
        path.write_bytes(
            private.public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            )
        )
        made[name] = str(path)
    (tmp_path / "junk.pub").write_text("ssh-ed25519 !not-base64! junk\n")
    made["junk"] = str(tmp_path / "junk.pub")
    return made


@pytest.mark.parametrize(
    ("frontend", "key", "error"),
    [
        ("vc", "rsa1024", "is RSA of 1024 bits: only Ed25519 keys and RSA keys of 2048"),
        ("vc", "ecdsa", "only Ed25519 keys and RSA keys of 2048"),
        ("vc", "junk", "is not an OpenSSH public key line"),
        ("vc", "missing", "cannot read the public key"),
        ("vc-compute-0", "good", "vc-compute-0 is not the frontend VM of a virtual cluster"),
        ("hosted", "good", "hosted is not the frontend VM of a virtual cluster"),
        ("vm-container-0-0", "good", "is not the frontend VM of a virtual cluster"),
        ("nonesuch", "good", "nonesuch is no host"),
    ],
)
def test_add_host_key_refuses_in_one_line_and_changes_nothing(
    lab, tmp_path, frontend: str, key: str, error: str
) -> None:
    files = _weak_keys(tmp_path)
    files["good"] = f"{lab.tenant('good').key}.pub"
    files["missing"] = str(tmp_path / "missing.pub")
    before = lab.cli.dump()
    done = lab.cli("add", "host", "key", frontend, f"key={files[key]}")
    assert done.code == 1
    assert done.err.startswith("error - ") and done.err.count("\n") == 1
    assert error in done.err
    assert lab.cli.dump() == before


def test_remove_host_key_unbinds_one_key_of_its_frontend(lab) -> None:
    ids = {r["host"]: r["id"] for r in lab.rows("list", "host", "key")}
    wrong = lab.cli("remove", "host", "key", "vc", f"id={ids['wc']}")
    assert wrong.code == 1
    assert wrong.err == (
        f"error - vc has no key with id {ids['wc']} (see: cairn list host key vc)\n"
    )
    lab.cli.ok("remove", "host", "key", "vc", f"id={ids['vc']}")
    assert [r[0] for r in _listed(lab)] == ["wc"]
    from cairn.errors import CairnError

    with pytest.raises(CairnError, match="is not bound to any cluster"):
        lab.call(lab.owner, "macs", "vc")


def test_dump_replays_the_keys_into_a_fresh_database(lab, tmp_path) -> None:
    from testkit import run_at

    lab.cli.ok("add", "host", "key", "vc", f"key={lab.tenant('second').key}.pub")
    dump = lab.cli.dump()
    assert f"cairn add host key vc key='{lab.owner.public.openssh} owner'" in dump
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    assert run_at(url, "init", "defaults=no")[0] == 0
    for line in dump.splitlines():
        code, _, err = run_at(url, *shlex.split(line)[1:])
        assert code == 0, f"{line}: {err}"
    assert run_at(url, "dump")[1] == dump
    code, replayed, _ = run_at(url, "list", "host", "key", "output-format=json")
    assert code == 0
    # The same keys on the same frontends (ids are the new database's own).
    same = [{k: v for k, v in r.items() if k != "id"} for r in json.loads(replayed)]
    assert same == [
        {k: v for k, v in r.items() if k != "id"} for r in lab.rows("list", "host", "key")
    ]
    assert len(same) == 3


def test_a_relative_key_file_is_read_where_the_user_is(lab) -> None:
    """The service runs in another directory than the user's `cairn`: the
    client gives it the path."""
    import servicekit
    from testkit import CAIRN

    second = lab.tenant("second")
    if not servicekit.IN_PROCESS:
        servicekit.ensure()
    env = {**os.environ, "CAIRN_DB_URL": lab.cli.url}
    if servicekit.IN_PROCESS:
        env["CAIRN_SERVICE"] = "off"
    done = subprocess.run(
        [CAIRN, "add", "host", "key", "vc", "key=second.pub"],
        cwd=second.key.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert second.fingerprint in [r[2] for r in _listed(lab, "vc")]


@pytest.mark.parametrize("comment", ["x" * 256, "tab\there"])
def test_a_key_comment_a_database_cannot_keep_is_refused(lab, comment: str) -> None:
    line = f"{lab.tenant('long').public.openssh} {comment}"
    before = lab.cli.dump()
    done = lab.cli("add", "host", "key", "vc", f"key={line}")
    assert done.code == 1
    assert done.err.startswith("error - the key's comment must be printable and at most 255")
    assert lab.cli.dump() == before
