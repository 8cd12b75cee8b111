"""The profile's shell passes shellcheck: the packaged parts (cairn/container/sh)
one by one, and whole profiles as cairn writes them, which is what shellcheck
of one part cannot see (a variable set in one part and misspelt in another)."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from cairn.container import profile as prof
from cairn.container import script as rendering
from cairn.container.ca import Issued
from cairn.container.sshkey import PublicKey
from cairn.inventory.netplan import BridgePlan

ROOT = Path(__file__).resolve().parents[3]
PARTS = sorted(Path(str(resources.files("cairn.container") / "sh")).glob("*.sh"))
CERT = Issued("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "KEY")
KEY = PublicKey("ssh-ed25519 AAAA root@fe", "ssh-ed25519 AAAA", Path("/x.pub"), generated=False)
PLAIN = BridgePlan(
    network="private", bridge="br0", kind="plain", port="eth0", address="10.1.0.5/16"
)
VXLAN = BridgePlan(
    network="vc1", bridge="br-vx7", kind="vxlan", port="vx7", vid=7,
    local="198.18.0.2", peers=("198.18.0.3", "198.18.0.4"),
)  # fmt: skip
VLAN = BridgePlan(network="v9", bridge="br-v9", kind="vlan", port="eth0.9", parent="eth0", vid=9)


def _profile(**values: object) -> prof.Profile:
    base: dict[str, object] = dict(
        host="node", container=True, uri="qemu:///system", access="local"
    )
    return prof.Profile(**(base | values))  # type: ignore[arg-type]


PROFILES = {
    "ssh": _profile(uri="qemu+ssh://node/system", access="ssh", ssh_key=KEY, network=(PLAIN,)),
    "tls": _profile(
        uri="qemu+tls://node/system",
        access="tls",
        ca_pem=CERT.cert_pem,
        server=CERT,
        client=CERT,
        clients=("O=cairn,CN=fe",),
        network=(PLAIN, VXLAN, VLAN),
    ),
    "local": _profile(),
    "client only": _profile(
        container=False, reason="not a container", ca_pem=CERT.cert_pem, client=CERT
    ),
}


def shellcheck(*args: str, text: str | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("shellcheck") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but shellcheck is not installed (scripts/setup.sh installs it)")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    return subprocess.run(
        ["shellcheck", *args], input=text, capture_output=True, text=True, check=False
    )


def test_every_packaged_part_passes_shellcheck() -> None:
    assert len(PARTS) > 10
    found = shellcheck(*map(str, PARTS))
    assert found.returncode == 0, found.stdout


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_whole_profiles_pass_shellcheck(name: str) -> None:
    p = PROFILES[name]
    # SC2016 is about a $ in single quotes: a shlex-quoted value (the bridges
    # script in cairn_net_script) holds it as data, which is the point.
    whole = shellcheck("--shell=sh", "--exclude=SC2016", "-", text=rendering.render_sh(p))
    assert whole.returncode == 0, whole.stdout
    post = "set -eu\n" + rendering._script(p, "kickstart")
    assert "%post" in rendering.render_kickstart(p)
    found = shellcheck("--shell=sh", "--exclude=SC2016", "-", text=post)
    assert found.returncode == 0, found.stdout
    if p.network:
        bridges = shellcheck("-", text=rendering.network_part(p))
        assert bridges.returncode == 0, bridges.stdout


def test_every_part_reaches_a_profile_without_its_header() -> None:
    made = [rendering.render_sh(p) + rendering.network_part(p) for p in PROFILES.values()]
    made += [rendering.render_kickstart(p) for p in PROFILES.values()]
    for part in PARTS:
        header, body = part.read_text(encoding="utf-8").split("\n\n", 1)
        assert header.startswith("# shellcheck shell=sh"), part.name
        assert any(body in text for text in made), part.name
        assert not any(header in text for text in made), part.name


def test_the_parts_are_package_data() -> None:
    """An installed cairn (a wheel, not this tree) carries every part."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["cairn"]
    src = ROOT / "src" / "cairn"
    for part in PARTS:
        assert any(fnmatch.fnmatch(str(part.relative_to(src)), pat) for pat in patterns), part
