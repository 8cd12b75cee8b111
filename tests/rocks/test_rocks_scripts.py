"""Rocks 6.2's own KVM test scripts, ported to cairn (tests/rocks/t*.sh), run
as Rocks ran them: bash, with `cairn` on PATH and a fresh database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(HERE.glob("t[0-9]*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_rocks_script(script: Path, tmp_path: Path) -> None:
    if shutil.which("xmllint") is None:
        pytest.fail("xmllint is missing (Debian libxml2-utils; scripts/setup.sh installs it)")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CAIRN_")
        or k.startswith(("CAIRN_TEST", "CAIRN_SERVICE", "CAIRN_RUNTIME_DIR"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CAIRN_DB_URL"] = f"sqlite:///{tmp_path / 'cairn.db'}"
    env["CAIRN_CONFIG"] = str(tmp_path / "none.toml")
    (tmp_path / "none.toml").write_text(
        'vm_storage_dirs = ["/var/lib/libvirt/images", "/kvm", "/tmp"]\n'  # and t6001's
    )
    try:
        done = subprocess.run(
            ["bash", str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        _stop_services(env, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "not ok" not in done.stdout, output
    assert " 0 failed" in done.stdout.splitlines()[-1], output


def _stop_services(env: dict[str, str], tmp_path: Path) -> None:
    """Stop the cairn services the script's commands started, if any: one per
    database and plugin path (t6000 sets CAIRN_PLUGIN_PATH half-way)."""
    for plugins in (None, tmp_path / "plugins"):
        own = dict(env)
        if plugins is not None:
            own["CAIRN_PLUGIN_PATH"] = str(plugins)
        subprocess.run(
            ["cairn", "stop", "service"], env=own, capture_output=True, timeout=60, check=False
        )
