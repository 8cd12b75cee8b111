"""The IPMI fence example (examples/plugins/watch/plugin_fence.py), loaded as cairn
loads plugins, against a stand-in `ipmitool` on PATH that logs its arguments and
environment and plays a BMC: `power off` switches its chassis off (or, for a BMC
that does not obey, leaves it on), `power status` says which."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from cairn.plugins.loader import PluginError, load

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "plugins" / "watch" / "plugin_fence.py"
IPMITOOL = """#!/bin/sh
printf 'argv %s\\n' "$*" >> {log}
printf 'password %s\\n' "$IPMI_PASSWORD" >> {log}
case "$*" in
  *"power off") [ {obeys} = yes ] && echo "Chassis Power is off" > {state}
                echo "Chassis Power Control: Down/Off" ;;
  *"power status") cat {state} ;;
esac
"""
SECRET = "s3cret with 'quotes' and $(words)"
ATTRS = {"fence_ipmi_user": "admin"}


@pytest.fixture
def bmc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Makes (the plugin, the ipmitool log, attrs): a BMC that obeys, or not (obeys=False)."""

    def make(*, obeys: bool = True) -> tuple[Any, Path, dict[str, str]]:
        root = tmp_path / "plugins"
        (root / "watch").mkdir(parents=True)
        for d in (root, root / "watch"):
            d.chmod(0o755)
        shutil.copy(EXAMPLE, root / "watch" / "plugin_fence.py")
        (root / "watch" / "plugin_fence.py").chmod(0o644)
        bin_dir, log, state = tmp_path / "bin", tmp_path / "ipmitool.log", tmp_path / "chassis"
        bin_dir.mkdir()
        state.write_text("Chassis Power is on\n")
        tool = bin_dir / "ipmitool"
        tool.write_text(IPMITOOL.format(log=log, state=state, obeys="yes" if obeys else "no"))
        tool.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        secret = tmp_path / "bmc.pass"
        secret.write_text(SECRET + "\n")
        secret.chmod(0o600)
        plugin = load(root / "watch" / "plugin_fence.py")
        plugin.run.__globals__["EVERY"] = 0.0  # the BMC here answers at once
        attrs = {**ATTRS, "fence_ipmi_host": "vm-container-0-1-ipmi",
                 "fence_ipmi_password_file": str(secret)}  # fmt: skip
        return plugin, log, attrs

    return make


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_it_powers_the_container_off_and_answers_true_once_the_bmc_says_off(bmc):
    plugin, log, attrs = bmc()

    assert plugin(container="vm-container-0-1", uri="qemu+tls://x/system", attrs=attrs) is True

    base = "-I lanplus -H vm-container-0-1-ipmi -U admin -E -N 5 -R 3 chassis power"
    assert calls(log) == [
        f"argv {base} off",
        f"password {SECRET}",
        f"argv {base} status",
        f"password {SECRET}",
    ]  # the password only in the environment


def test_a_bmc_that_stays_on_is_not_a_fence(bmc):
    plugin, log, attrs = bmc(obeys=False)

    assert plugin(container="vm-container-0-1", uri="u", attrs=attrs) is False
    assert calls(log)[-2].endswith("chassis power status")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fence_ipmi_host", "bmc; touch /tmp/owned"),
        ("fence_ipmi_host", "-o x"),
        ("fence_ipmi_host", ""),
        ("fence_ipmi_user", "admin -P x"),
        ("fence_ipmi_user", "$(id)"),
    ],
)
def test_a_value_that_is_not_a_plain_name_is_refused_before_ipmitool_runs(bmc, name, value):
    plugin, log, attrs = bmc()

    with pytest.raises(PluginError, match=f"attribute {name} of vm-container-0-1 is"):
        plugin(container="vm-container-0-1", uri="u", attrs={**attrs, name: value})
    assert calls(log) == []


def test_a_password_file_others_may_read_is_refused(bmc):
    plugin, log, attrs = bmc()
    Path(attrs["fence_ipmi_password_file"]).chmod(0o644)

    with pytest.raises(PluginError, match="mode 0600"):
        plugin(container="vm-container-0-1", uri="u", attrs=attrs)
    assert calls(log) == []
