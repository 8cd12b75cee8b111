"""Fixtures for the VM lifecycle tests: libvirt's in-process test driver as
every container, plugin trees in tmp dirs, and a small lab cluster.

All connections to test:///default in one process share one in-memory host,
dropped when the last connection closes. Each cairn command closes its own,
so `hv` holds one for the whole test: what cairn did stays visible, and the
next test gets a fresh host.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libvirt
import pytest

import cairn.hypervisor.errors  # noqa: F401  (silences libvirt's stderr handler)
from cairn.cli.main import main

TEST_URI = "test:///default"
CONTAINERS = ("vm-container-0-0", "vm-container-0-1", "vm-container-0-2")

DISALLOCATE_LOGGER = """
def run(*, session, vm, reason):
    with open(LOG, "a") as f:
        f.write("disallocate " + vm.host.name + " " + reason + "\\n")
"""

# libvirt's own state codes, named here independently of cairn's map.
_STATES = {
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
}


@dataclass
class Result:
    """A lifecycle command's outcome with its result table parsed from JSON."""

    code: int
    rows: list[dict[str, Any]]
    err: str

    def by_host(self) -> dict[str, dict[str, Any]]:
        return {r["host"]: r for r in self.rows}


class PluginTree:
    """A plugin dir in tmp, with safe permissions, named by CAIRN_PLUGIN_PATH."""

    WORDS = {
        "allocate": ("start", "host", "vm"),
        "preboot": ("start", "host", "vm"),
        "disallocate": ("stop", "host", "vm"),
        "fence": ("watch",),
    }

    def __init__(self, root: Path, log: Path):
        self.root = root
        self.log = log
        root.mkdir(mode=0o755)
        os.chmod(root, 0o755)

    def path(self, hook: str) -> Path:
        return self.root.joinpath(*self.WORDS[hook], f"plugin_{hook}.py")

    def write(self, hook: str, source: str, mode: int = 0o644) -> Path:
        """Write plugin_<hook>.py; LOG in `source` becomes the call log's path."""
        return self._write(self.WORDS[hook], f"plugin_{hook}.py", source, mode)

    def write_section(self, section: str, source: str) -> Path:
        """Write report/host/vm/config/plugin_<section>.py (a domain XML section plugin)."""
        words = ("report", "host", "vm", "config")
        return self._write(words, f"plugin_{section}.py", source, 0o644)

    def _write(self, words: tuple[str, ...], name: str, source: str, mode: int) -> Path:
        directory = self.root
        for word in words:
            directory = directory / word
            directory.mkdir(exist_ok=True)
            os.chmod(directory, 0o755)
        path = directory / name
        path.write_text(textwrap.dedent(source).replace("LOG", repr(str(self.log))))
        os.chmod(path, mode)
        return path

    def logger(self, hook: str) -> Path:
        """A plugin that appends `<hook> <vm> [<reason>]` to the log and returns None."""
        if hook == "disallocate":
            return self.write(hook, DISALLOCATE_LOGGER)
        return self.write(
            hook,
            f"""
            def run(*, session, vm, **_):
                with open(LOG, "a") as f:
                    f.write("{hook} " + vm.host.name + "\\n")
            """,
        )

    def calls(self, hook: str | None = None) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line for line in lines if hook is None or line.split()[0] == hook]


LAB_CLUSTER = [
    *(
        ["add", "host", name, "appliance=vm-container", "rack=0", f"rank={rank}", "cpus=4"]
        for rank, name in enumerate(CONTAINERS)
    ),
    ["set", "attr", "kvm_connection", TEST_URI],
]


class Lab:
    """A cluster whose containers all reach libvirt's test driver: vm-container-0-0,
    0-1 and 0-2 (4 CPUs each), global kvm_connection test:///default."""

    def __init__(self, cli: Any, conn: libvirt.virConnect):
        self.cli = cli
        self.conn = conn

    def build(self) -> None:
        for words in LAB_CLUSTER:
            self.cli.ok(*words)

    def add_vm(self, container: str, *params: str) -> str:
        """Add a VM (64 MB unless mem= is given); its name."""
        mem = () if any(p.startswith("mem=") for p in params) else ("mem=64",)
        out = self.cli.ok("add", "host", "vm", container, *mem, *params)
        return out.split()[1]  # "added NAME on CONTAINER slice N"

    def act(self, *words: str) -> Result:
        """Run a lifecycle command (`start host vm ...` etc.) with JSON output."""
        done = self.cli(*words, "output-format=json")
        rows = json.loads(done.out) if done.out.strip() else []
        return Result(done.code, rows, done.err)

    def start(self, *vms: str) -> Result:
        return self.act("start", "host", "vm", *vms)

    def stop(self, *vms_and_params: str) -> Result:
        return self.act("stop", "host", "vm", *vms_and_params)

    def state(self, name: str) -> str:
        """The domain's state as this test's own connection sees it."""
        try:
            dom = self.conn.lookupByName(name)
        except libvirt.libvirtError:
            return "undefined"
        code = dom.state(0)[0]
        if code == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage(0):
            return "saved"
        return _STATES.get(code, f"state-{code}")

    def autostart(self, name: str) -> bool:
        return bool(self.conn.lookupByName(name).autostart())

    def xml(self, name: str) -> str:
        return str(self.conn.lookupByName(name).XMLDesc(0))

    def listed(self, *vms: str) -> dict[str, dict[str, Any]]:
        out = self.cli.ok("list", "host", "vm", *vms, "status=yes", "output-format=json")
        return {r["vm-host"]: r for r in json.loads(out)}

    def host_attr(self, host: str, name: str) -> str | None:
        out = self.cli.ok("list", "host", "attr", host, "output-format=json")
        found = [r["value"] for r in json.loads(out) if r["attr"] == name]
        return found[0] if found else None

    def rack(self, host: str) -> int:
        out = self.cli.ok("list", "host", host, "output-format=json")
        return int(json.loads(out)[0]["rack"])


def _run_at(url: str, words: list[str]) -> None:
    """Run cairn against `url` outside any test (building a template)."""
    saved = {k: os.environ.get(k) for k in ("CAIRN_DB_URL", "CAIRN_PLUGIN_PATH")}
    os.environ.update(CAIRN_DB_URL=url, CAIRN_PLUGIN_PATH="")
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(words)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert code == 0, f"building the lab template: {words}: {err.getvalue()}"


class Templates:
    """The lab cluster built once per session in a SQLite file, copied into
    each SQLite test's database before its first use (saving the migrations
    and the commands). Elsewhere (PostgreSQL, where CREATE DATABASE ... TEMPLATE
    costs about what it saves) each test builds the lab itself."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.sqlite: Path | None = None

    def fill(self, url: str) -> bool:
        """Make the not yet used SQLite database at `url` a copy of the lab."""
        if not url.startswith("sqlite:///"):
            return False
        target = Path(url.removeprefix("sqlite:///"))
        if target.exists():
            return False
        if self.sqlite is None:
            built = self.directory / "lab.db"
            for words in LAB_CLUSTER:
                _run_at(f"sqlite:///{built}", words)
            # Every connection is closed: the WAL is checkpointed into the file.
            assert not built.with_name("lab.db-wal").exists()
            self.sqlite = built
        shutil.copyfile(self.sqlite, target)
        return True


@pytest.fixture(scope="session")
def lab_templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("lab-template"))


@pytest.fixture
def lab(cli: Any, hv: libvirt.virConnect, lab_templates: Templates) -> Lab:
    made = Lab(cli, hv)
    if not lab_templates.fill(cli.url):
        made.build()
    return made


@pytest.fixture
def plugins(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginTree:
    """An empty plugin tree; depends on `cli`, which sets CAIRN_PLUGIN_PATH to ""."""
    tree = PluginTree(tmp_path / "plugins", tmp_path / "calls.log")
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(tree.root))
    return tree


@pytest.fixture
def watcher(lab: Any, vm: Any, caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """A watcher on this test's database, with the plugins `vm` wrote (loaded now).

    `vm` is each watch test module's own fixture that starts VMs through cairn.
    """
    import logging

    from cairn.lifecycle.watch import Watcher

    caplog.set_level(logging.INFO, logger="cairn.watch")
    w = Watcher(lab.cli.url, refresh=3600)
    try:
        yield w
    finally:
        w.close()  # the test host must not outlive the test
