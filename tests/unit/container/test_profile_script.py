"""The generated shell itself: no value can run as code, and its helpers are
idempotent. Values are fed to the renderer directly (bypassing the checks that
`gather` makes) to show that quoting alone keeps them inert."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.container import profile as prof
from cairn.container import script as rendering
from cairn.container.ca import Issued
from cairn.container.sshkey import PublicKey
from cairn.errors import CairnError

CERT = Issued("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "KEY")
KEY = PublicKey("ssh-ed25519 AAAA c", "ssh-ed25519 AAAA", Path("/x.pub"), generated=False)

HOSTILE = [
    "$(touch {canary})",
    "`touch {canary}`",
    "'; touch {canary}; '",
    '"; touch {canary}; "',
    "\\'; touch {canary} #",
    "x\ntouch {canary}\n",
    "EOF\ntouch {canary}\nEOF",
    "${{IFS}}$(touch${{IFS}}{canary})",
]


def profile(**values: object) -> prof.Profile:
    base: dict[str, object] = dict(
        host="node", container=True, uri="qemu+tls://node/system", access="tls",
        ca_pem=CERT.cert_pem, server=CERT, client=CERT, ssh_key=KEY,
        clients=("O=cairn,CN=fe",),
    )  # fmt: skip
    base.update(values)
    return prof.Profile(**base)  # type: ignore[arg-type]


def values_and_body(script: str) -> tuple[str, str]:
    _head, rest = script.split("# Values from the cairn database", 1)
    block, body = rest.split("# End of values.", 1)
    return block, body


def evaluate(block: str, names: list[str]) -> dict[str, str]:
    dump = "".join(f'printf "%s\\0" "${n}"\n' for n in names)
    out = subprocess.run(
        ["bash", "-c", f"set -eu\n# {block}\n{dump}"], capture_output=True, check=True
    ).stdout
    return dict(zip(names, out.decode().split("\0")[:-1], strict=True))


@pytest.mark.parametrize("attack", HOSTILE)
@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_hostile_values_are_data_not_code(tmp_path: Path, attack: str, shell: str) -> None:
    canary = tmp_path / "pwned"
    bad = attack.format(canary=canary)
    key = PublicKey(f"ssh-ed25519 AAAA {bad}", "ssh-ed25519 AAAA", Path("/k"), generated=False)
    p = profile(host=bad, save_dir=bad, disk_dir=bad, cairn=bad, ssh_key=key)
    for text in (rendering.render_sh(p), rendering._script(p, "kickstart")):
        block, _ = values_and_body(text)
        names = re.findall(r"^(cairn_\w+)=", block, re.M)
        dump = "".join(f'printf "%s\\0" "${n}"\n' for n in names)
        out = subprocess.run(
            [shell, "-c", f"set -eu\n# {block}\n{dump}"], capture_output=True, check=True
        ).stdout.decode()
        got = dict(zip(names, out.split("\0")[:-1], strict=True))
        assert got["cairn_host"] == bad
        assert got["cairn_save_dir"] == bad
        assert got["cairn_ssh_key"] == key.line
        assert f"ExecStart={bad} container boot" in got["cairn_unit"]
        assert not canary.exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=40))
def test_any_value_round_trips_and_the_body_never_changes(value: str) -> None:
    """Whatever a value holds, bash reads it back exactly, and the code after the
    values is the same text as for a plain value."""
    plain = rendering.render_sh(profile())
    odd = rendering.render_sh(profile(host=value, save_dir=value, cairn=value))
    assert values_and_body(odd)[1] == values_and_body(plain)[1]
    got = evaluate(values_and_body(odd)[0], ["cairn_host", "cairn_save_dir"])
    assert got == {"cairn_host": value, "cairn_save_dir": value}


def test_a_value_that_would_end_a_kickstart_section_is_refused() -> None:
    with pytest.raises(CairnError, match="starting with %"):
        rendering.render_kickstart(profile(save_dir="/x\n%end\nrootpw evil"))
    with pytest.raises(CairnError, match="starting with %"):
        rendering.render_kickstart(profile(host="n\n  %packages"))


def test_comments_cannot_be_ended_by_a_value() -> None:
    p = profile(container=False, reason="a\nrm -rf /\r\x1b", client=None)
    text = rendering.render_sh(p)
    assert "\nrm -rf" not in text
    assert all(line.startswith("#") or line in ("set -eu", "umask 022") or
               line.startswith("echo ") for line in text.splitlines())  # fmt: skip


# --- the helpers, run for real in a scratch directory --------------------------


def run(snippet: str, tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = "set -eu\ncairn_live=no\n" + rendering._PRELUDE + snippet
    return subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, env={**os.environ, **env}, cwd=tmp
    )


def test_cairn_put_writes_once_then_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "pki" / "file.pem"
    text = "line 1\n$(touch pwned) 'quoted'\n\nlast line"
    put = f'cairn_put {shlex.quote(str(target))} 600 {shlex.quote(text)}\necho "[$cairn_changes]"'
    first = run(put, tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"wrote {target}" in first.stdout
    assert target.read_text() == text + "\n"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    second = run(put, tmp_path)
    assert second.stdout.strip() == "[]"
    target.chmod(0o644)
    assert "mode 600" in run(put, tmp_path).stdout
    assert not (tmp_path / "pwned").exists()
    assert [p.name for p in target.parent.iterdir()] == ["file.pem"]  # no temp files left


def test_the_ssh_part_adds_the_key_once_after_a_last_line_without_newline(tmp_path: Path) -> None:
    ssh = tmp_path / "root-ssh"
    snippet = rendering._SSH.replace("/root/.ssh", str(ssh))
    keys = ssh / "authorized_keys"
    ssh.mkdir()
    keys.write_text("ssh-rsa BBBB other")  # no newline at the end
    line = "ssh-ed25519 AAAA root@fe $(touch pwned)"
    env = {"cairn_ssh_key": line, "cairn_ssh_key_id": "ssh-ed25519 AAAA"}
    setup = "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items())
    first = run(setup + snippet, tmp_path)
    assert first.returncode == 0, first.stderr
    assert keys.read_text() == f"ssh-rsa BBBB other\n{line}\n"
    second = run(setup + snippet + 'echo "[$cairn_changes]"\n', tmp_path)
    assert second.stdout.strip() == "[]"
    # The same key with another comment or options counts as there already.
    keys.write_text('from="10.0.0.0/8" ssh-ed25519 AAAA someone-else\n')
    run(setup + snippet, tmp_path)
    assert keys.read_text().count("AAAA") == 1
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("uri", "access"),
    [
        ("qemu+tls://n/system", "tls"),
        ("qemu://n/system", "tls"),
        ("qemu+ssh://n/system", "ssh"),
        ("qemu+libssh2://root@n/system", "ssh"),
        ("qemu:///system", "local"),
        ("qemu+unix:///system", "local"),
        ("qemu+tcp://n/system", "other"),
        ("test:///default", "other"),
    ],
)
def test_access_of_uri(uri: str, access: str) -> None:
    assert prof.access_of(uri) == access


def test_the_tls_part_pins_the_frontend_and_switches_verification_on(tmp_path: Path) -> None:
    conf = tmp_path / "libvirtd.conf"
    conf.write_text(
        "# site settings\nlisten_tls = 0\ntls_no_verify_certificate = 1\n"
        'tls_allowed_dn_list = ["*"]\n  tls_allowed_dn_list = ["CN=old"]\nmax_clients = 5000\n'
    )
    snippet = (
        rendering._TLS_SERVER.replace("/etc/libvirt/libvirtd.conf", str(conf))
        .replace("/etc/pki", str(tmp_path / "pki"))
        .replace("cairn_enable libvirtd-tls.socket", ":")
    )
    line = rendering.allowed_dn_line(["O=cairn,CN=fe", "O=cairn,CN=fe-2"])
    env = {
        "cairn_ca_cert": "CA", "cairn_server_cert": "CERT", "cairn_server_key": "KEY",
        "cairn_tls_allowed_dn_list": line, "cairn_init": "none",
    }  # fmt: skip
    setup = "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items())
    prelude = rendering._PRELUDE.replace('if [ "$cairn_live" = yes ]', "if false")
    first = run(setup + prelude + snippet, tmp_path)
    assert first.returncode == 0, first.stderr
    assert conf.read_text().splitlines() == [
        "# site settings",
        "max_clients = 5000",
        "listen_tls = 1",
        'tls_allowed_dn_list = ["O=cairn,CN=fe", "O=cairn,CN=fe-2"]',
        "tls_no_verify_certificate = 0",
    ]
    second = run(setup + prelude + snippet + 'echo "[$cairn_changes]"\n', tmp_path)
    assert second.stdout.strip().endswith("[]"), second.stdout


@pytest.mark.parametrize("dn", ["CN=*,O=cairn", 'CN=a",O=x', "CN=a\\", "CN=[ab]", "CN=a\nb"])
def test_a_client_name_that_would_widen_the_pin_is_refused(dn: str) -> None:
    with pytest.raises(CairnError, match="tls_allowed_dn_list"):
        rendering.allowed_dn_line([dn])
    with pytest.raises(CairnError, match="empty"):
        rendering.allowed_dn_line([])


def test_the_bridges_are_installed_to_be_made_at_every_boot_in_both_formats() -> None:
    """The bridges part is a script of its own (/etc/cairn/network.sh) that
    cairn-network.service runs at boot before libvirtd: a bridge made only by
    the profile's one run would be gone after the node's next reboot."""
    from cairn.inventory.netplan import BridgePlan
    from cairn.units import network_unit

    plan = BridgePlan(
        network="vc1", bridge="br-vx7", kind="vxlan", port="vx7", vid=7,
        local="198.18.0.2", peers=("198.18.0.3", "$(touch /tmp/pwned)"),
    )  # fmt: skip
    p = profile(network=(plan,))
    for fmt in ("sh", "kickstart"):
        text = rendering.render(p, fmt)  # type: ignore[arg-type]
        block, body = values_and_body(text)
        got = evaluate(block, ["cairn_net_file", "cairn_net_script", "cairn_net_unit"])
        assert got["cairn_net_file"] == "/etc/cairn/network.sh"
        assert got["cairn_net_script"] == rendering.network_part(p).rstrip("\n")
        assert got["cairn_net_unit"] == network_unit()
        assert 'cairn_put "$cairn_net_file" 700 "$cairn_net_script"' in body
        assert 'cairn_install_unit cairn-network.service "$cairn_net_unit"' in body
    script = rendering.network_part(p)
    assert script.startswith("#!/bin/sh\n")
    assert subprocess.run(["sh", "-n", "-c", script]).returncode == 0
    # The hostile peer is one quoted value of the script, never code in it.
    assert "cairn_net_1_peers='198.18.0.3 $(touch /tmp/pwned)'" in script


def test_the_daemons_part_sees_no_libvirtd_of_a_pid_namespace_below(tmp_path: Path) -> None:
    """A profile applied on a machine that also holds containers in PID namespaces
    (a testbed's, LXC's) restarts only its own libvirtd: a plain pgrep/pkill -x
    libvirtd would see theirs too, and kill them."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a PID namespace")
    prog = tmp_path / "cairn-t-daemon"
    prog.write_bytes(Path("/bin/sleep").read_bytes())
    prog.chmod(0o755)
    below = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", str(prog), "300"]
    )
    try:
        plain = f"pgrep -x {prog.name}"
        for _ in range(100):  # until the namespace's child has started
            if subprocess.run(["sh", "-c", plain], capture_output=True).stdout:
                break
            subprocess.run(["sleep", "0.05"])
        helper = rendering._DAEMONS.split("cairn_wait()")[0]
        assert "cairn_pgrep()" in helper
        ours = subprocess.run(
            ["sh", "-c", f"{helper}\ncairn_pgrep -x {prog.name} || true"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        seen = subprocess.run(["sh", "-c", plain], capture_output=True, text=True).stdout
        assert seen.strip(), "the process in the PID namespace below is visible to pgrep"
        assert ours.strip() == ""
        assert "pkill -x" not in rendering._DAEMONS and " pgrep -x" not in rendering._DAEMONS
    finally:
        below.kill()
        below.wait()
