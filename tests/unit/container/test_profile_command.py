"""`cairn report host profile` against the example cluster (tests/conftest.py):
which hosts get a KVM part, in which format, with which remote access."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from cairn.container.ca import subject_alt_names
from cairn.db.hostfacts import local_hostname

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBhbGciOiJIUzI1NiJ9eyJzdWIiOiIxMjM0NTY3ODkwIn0 root@fe"
ME = local_hostname()


@pytest.fixture(autouse=True)
def frontend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine as a frontend: its own CA directory and root's SSH key."""
    monkeypatch.setenv("CAIRN_CA_DIR", str(tmp_path / "ca"))
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519.pub").write_text(KEY + "\n")
    monkeypatch.setenv("HOME", str(home))
    return tmp_path


def values(script: str) -> dict[str, str]:
    """The values block of a profile, evaluated by bash itself ({} if it has none)."""
    if "# Values from the cairn database" not in script:
        return {}
    block = script.split("# Values from the cairn database", 1)[1].split("# End of values.")[0]
    # The variables the block sets, as bash sees them: a value may hold lines that
    # look like assignments (the bridges script), which are not variables here.
    dump = 'for n in $(compgen -v cairn_); do printf "%s\\0%s\\0" "$n" "${!n}"; done\n'
    out = subprocess.run(
        ["bash", "-c", f"set -eu\n# {block}\n{dump}"], capture_output=True, check=True
    ).stdout.decode()
    parts = out.split("\0")[:-1]
    return dict(zip(parts[::2], parts[1::2], strict=True))


def post(kickstart: str) -> str:
    return kickstart.split("%post --log=/root/cairn-profile.log\n", 1)[1].split("\n%end", 1)[0]


def parse_kickstart(fragment: str) -> Any:
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    whole = (
        "lang en_US.UTF-8\nkeyboard us\ntimezone UTC\nrootpw --lock\n"
        "url --url=http://mirror.example/os\n" + fragment
    )
    handler = makeVersion()
    parser = KickstartParser(handler, errorsAreFatal=True)
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")
        parser.readKickstartFromString(whole)
    return handler


def test_a_vm_container_gets_the_kvm_part_in_both_formats(example_cluster: Any) -> None:
    sh = example_cluster.ok("report", "host", "profile", "vm-container-0-0")
    v = values(sh)
    assert v["cairn_packages"].split() == [
        "libvirt-daemon-system", "libvirt-clients", "qemu-system-x86", "qemu-utils",
        "openssh-server",
    ]  # fmt: skip
    assert v["cairn_save_dir"] == "/var/lib/libvirt/qemu/save"
    assert v["cairn_ssh_key"] == KEY
    assert "ExecStart=" + v["cairn_command"] + " container boot" in v["cairn_unit"]
    assert "apt-get install" in sh and "cairn-container.service" in sh
    assert "cairn_ca_cert" not in v  # qemu+ssh: no TLS

    ks = example_cluster.ok("report", "host", "profile", "vm-container-0-0", "format=kickstart")
    handler = parse_kickstart(ks)
    assert sorted(handler.packages.packageList) == sorted(
        ["qemu-kvm", "qemu-img", "libvirt", "libvirt-client", "openssh-server"]
    )
    (script,) = handler.scripts
    assert 'cairn_install_unit cairn-container.service "$cairn_unit"' in script.script
    assert values(post(ks))["cairn_live"] == "no"


@pytest.mark.parametrize("fmt", ["sh", "kickstart"])
def test_a_host_that_is_no_container_gets_no_kvm_part(
    sqlite_example_cluster: Any, fmt: str
) -> None:
    text = sqlite_example_cluster.ok("report", "host", "profile", "compute-0-1", f"format={fmt}")
    assert "No KVM part: host compute-0-1 cannot run VMs" in text
    assert "kvm true" in text  # how to enable it
    for part in ("%packages", "%post", "cairn_put", "authorized_keys", "qemu", "systemctl"):
        assert part not in text
    if fmt == "kickstart":
        handler = parse_kickstart(text)
        assert not handler.packages.packageList and not handler.scripts
    else:
        done = subprocess.run(["sh", "-c", text], capture_output=True, text=True)
        assert done.returncode == 0 and "nothing to do" in done.stdout


def test_kvm_true_makes_a_compute_host_a_container(sqlite_example_cluster: Any) -> None:
    cli = sqlite_example_cluster
    cli.ok("set", "host", "attr", "compute-0-1", "kvm", "true")
    sh = cli.ok("report", "host", "profile", "compute-0-1")
    assert "No KVM part" not in sh
    assert values(sh)["cairn_host"] == "compute-0-1"
    assert "qemu-system-x86" in values(sh)["cairn_packages"]


def test_tls_installs_the_ca_and_a_server_certificate_kept_between_calls(
    example_cluster: Any, frontend: Path
) -> None:
    cli = example_cluster
    cli.ok("set", "host", "attr", "compute-0-0", "kvm", "true")
    cli.ok("set", "host", "attr", "compute-0-0", "kvm_connection", "qemu+tls://{host}.ib/system")
    assert "made the cluster CA" in cli.ok("create", "keys", "compute-0-0")
    first = cli("report", "host", "profile", "compute-0-0")
    assert first.code == 0, first.err
    v = values(first.out)
    assert v["cairn_ca_cert"] + "\n" == (frontend / "ca" / "cacert.pem").read_text()
    cert = x509.load_pem_x509_certificate(v["cairn_server_cert"].encode())
    ca = x509.load_pem_x509_certificate(v["cairn_ca_cert"].encode())
    cert.verify_directly_issued_by(ca)
    assert subject_alt_names(cert) == ["compute-0-0", "compute-0-0.ib", "10.1.255.254"]
    assert "BEGIN PRIVATE KEY" in v["cairn_server_key"]
    assert "listen_tls = 1" in first.out and "authorized_keys" not in first.out
    assert "cairn_client_cert" not in v  # compute-0-0 is not this machine nor a frontend
    # Only the frontend's client certificate (this machine's, and any frontend host's) gets in.
    cli.ok("add", "host", "fe-2", "appliance=frontend")
    pinned = values(cli.ok("report", "host", "profile", "compute-0-0"))["cairn_tls_allowed_dn_list"]
    names = sorted({local_hostname(), "fe-2"})
    assert pinned == "tls_allowed_dn_list = [" + ", ".join(f'"O=cairn,CN={n}"' for n in names) + "]"
    cli.ok("remove", "host", "fe-2")

    again = cli("report", "host", "profile", "compute-0-0")
    assert again.out == first.out  # same CA, same certificate: applying it again changes nothing
    assert "made" not in again.err


def test_the_frontend_gets_the_client_part_when_a_container_uses_tls(example_cluster: Any) -> None:
    cli = example_cluster
    # The example cluster reaches its containers through SSH: no client part.
    assert "cairn_client_cert" not in values(cli.ok("report", "host", "profile", "localhost"))
    cli.ok("set", "host", "attr", "vm-container-0-1", "kvm_connection", "qemu+tls://{host}/system")
    cli.ok("create", "keys")
    sh = cli.ok("report", "host", "profile", "localhost")
    v = values(sh)
    assert "No KVM part" in sh  # the frontend itself does not run VMs
    client = x509.load_pem_x509_certificate(v["cairn_client_cert"].encode())
    client.verify_directly_issued_by(x509.load_pem_x509_certificate(v["cairn_ca_cert"].encode()))
    assert subject_alt_names(client) == [ME]
    assert "/etc/pki/libvirt/clientcert.pem" in sh
    assert "cairn_client_cert" not in values(
        cli.ok("report", "host", "profile", "localhost", "client=no")
    )
    cli.ok("create", "keys", "compute-0-0", "client=yes")
    assert "cairn_client_cert" in values(
        cli.ok("report", "host", "profile", "compute-0-0", "client=yes")
    )
    parse_kickstart(cli.ok("report", "host", "profile", "localhost", "format=kickstart"))


def test_this_machine_as_a_tls_container_has_local_names_and_the_client_part(
    sqlite_example_cluster: Any,
) -> None:
    cli = sqlite_example_cluster
    cli.ok("set", "host", "attr", "localhost", "kvm", "true")
    cli.ok("set", "host", "attr", "localhost", "kvm_connection", "qemu+tls://{host}/system")
    cli.ok("create", "keys", "localhost")
    v = values(cli.ok("report", "host", "profile", "localhost"))
    server = x509.load_pem_x509_certificate(v["cairn_server_cert"].encode())
    assert subject_alt_names(server) == [ME, "localhost", "127.0.0.1", "::1"]
    assert "cairn_client_key" in v


def test_a_local_connection_sets_up_nothing_remote(sqlite_example_cluster: Any) -> None:
    cli = sqlite_example_cluster
    cli.ok("set", "host", "attr", "vm-container-0-0", "kvm_connection", "qemu:///system")
    sh = cli.ok("report", "host", "profile", "vm-container-0-0")
    v = values(sh)
    assert "reached on this machine only" in sh
    assert not {"cairn_ssh_key", "cairn_server_cert", "cairn_ca_cert"} & set(v)
    assert "openssh-server" not in v["cairn_packages"]


def test_the_ssh_key_is_made_when_root_has_none(
    sqlite_example_cluster: Any, frontend: Path
) -> None:
    (frontend / "home" / ".ssh" / "id_ed25519.pub").unlink()
    assert "made the SSH key" in sqlite_example_cluster.ok("create", "keys", "vm-container-0-0")
    made = sqlite_example_cluster("report", "host", "profile", "vm-container-0-0")
    assert made.code == 0, made.err
    key = (frontend / "home" / ".ssh" / "id_ed25519.pub").read_text().strip()
    assert values(made.out)["cairn_ssh_key"] == key
    again = sqlite_example_cluster("report", "host", "profile", "vm-container-0-0")
    assert again.out == made.out and "made" not in again.err


@pytest.mark.parametrize(
    ("attr", "value"),
    [
        ("kvm_save_dir", "$(touch /tmp/pwned)"),
        ("kvm_save_dir", "/var/lib/it's/here"),
        ("kvm_save_dir", "relative/dir"),
        ("cairn_command", "/opt/cairn/bin/cairn; rm -rf /"),
        ("cairn_command", "/opt/%h/cairn"),
        ("cairn_command", "/bin/sh"),  # another program, run as root at every boot
        ("cairn_command", "/usr/bin/python3"),
    ],
)
def test_unsafe_paths_are_refused(sqlite_example_cluster: Any, attr: str, value: str) -> None:
    cli = sqlite_example_cluster
    before = cli.dump()
    refused = cli("set", "host", "attr", "vm-container-0-0", attr, value)
    assert refused.code == 1 and refused.err.count("\n") == 1 and attr in refused.err
    assert cli.dump() == before
    # A value that got in some other way (an older cairn, SQL) is refused by the profile.
    _store_raw(cli.url, "vm-container-0-0", attr, value)
    failed = cli("report", "host", "profile", "vm-container-0-0")
    assert failed.code == 1 and failed.out == ""
    assert attr in failed.err


def _store_raw(url: str, host: str, name: str, value: str) -> None:
    """Insert a host attribute with SQL, past cairn's checks (values are stored escaped)."""
    from sqlalchemy import create_engine, text

    from cairn.attrs.escape import escape

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO host_attrs (host_id, name, value)"
                " SELECT id, :name, :value FROM hosts WHERE name = :host"
            ),
            {"name": name, "value": escape(value), "host": host},
        )
    engine.dispose()


def test_escaped_attribute_values_are_used_unescaped(sqlite_example_cluster: Any) -> None:
    cli = sqlite_example_cluster
    _store_raw(cli.url, "vm-container-0-0", "kvm_save_dir", "/srv/a&b")
    assert "&amp;" in cli.ok("list", "host", "attr", "vm-container-0-0")  # stored escaped
    sh = cli("report", "host", "profile", "vm-container-0-0")
    # & is not a plain path character: refused, and named as given, not as stored.
    assert sh.code == 1 and "/srv/a&b" in sh.err and "&amp;" not in sh.err
    cli.ok("set", "host", "attr", "vm-container-0-0", "cairn_command", "/opt/c+c/cairn")
    cli.ok("remove", "host", "attr", "vm-container-0-0", "kvm_save_dir")
    assert values(cli.ok("report", "host", "profile", "vm-container-0-0"))["cairn_command"] == (
        "/opt/c+c/cairn"
    )


def test_one_host_only(sqlite_example_cluster: Any) -> None:
    failed = sqlite_example_cluster("report", "host", "profile", "vm-container")
    assert failed.code == 1 and "name one" in failed.err


@pytest.mark.parametrize("fmt", ["sh", "kickstart"])
@pytest.mark.parametrize(
    "setup",
    [
        [],
        [("vm-container-0-0", "kvm_connection", "qemu+tls://{host}/system")],
        [("vm-container-0-0", "kvm_connection", "qemu:///system")],
        [("localhost", "kvm", "true"), ("localhost", "kvm_connection", "qemu+tls://{host}/system")],
    ],
    ids=["ssh", "tls", "local", "frontend-tls"],
)
def test_every_profile_is_valid_shell_for_bash_and_dash(
    sqlite_example_cluster: Any, fmt: str, setup: list[tuple[str, str, str]]
) -> None:
    cli = sqlite_example_cluster
    for host, name, value in setup:
        cli.ok("set", "host", "attr", host, name, value)
    cli.ok("create", "keys")
    for host in ("vm-container-0-0", "localhost", "compute-0-1"):
        text = cli.ok("report", "host", "profile", host, f"format={fmt}")
        if fmt == "kickstart":
            parse_kickstart(text)
            if "%post" not in text:
                continue
            text = post(text)
        for shell in ("bash", "dash"):
            done = subprocess.run([shell, "-n"], input=text, capture_output=True, text=True)
            assert done.returncode == 0, f"{shell} -n, {host} {fmt}: {done.stderr}"
        assert shlex.split(text, comments=True)  # quotes all closed


def test_the_command_default_is_the_running_cairn() -> None:
    from cairn.units import default_cairn_command

    command = default_cairn_command()
    assert command.startswith("/") and Path(command).name == "cairn"
    assert Path(command).is_file()


def test_a_report_writes_nothing_and_says_what_to_run(
    sqlite_example_cluster: Any, frontend: Path
) -> None:
    """It made the cluster CA and root's SSH key as a side effect."""
    cli = sqlite_example_cluster
    (frontend / "home" / ".ssh" / "id_ed25519.pub").unlink()
    cli.ok("set", "host", "attr", "vm-container-0-1", "kvm_connection", "qemu+tls://{host}/system")
    for host, missing in (
        ("vm-container-0-0", "no SSH key"),
        ("vm-container-0-1", "no cluster CA"),
    ):
        refused = cli("report", "host", "profile", host)
        assert refused.code == 1 and refused.err.count("\n") == 1, refused.err
        assert missing in refused.err and "'cairn create keys" in refused.err
    assert not (frontend / "ca").exists()
    assert list((frontend / "home" / ".ssh").iterdir()) == []
    cli.ok("create", "keys", "vm-container-0-0", "vm-container-0-1")
    assert cli("create", "keys").out == "nothing to make: all there\n"
    for host in ("vm-container-0-0", "vm-container-0-1"):
        cli.ok("report", "host", "profile", host)
