"""Every command's help examples run against a fresh example cluster and succeed.

Help that nothing tests rots (STYLE.md); an example that cannot work against
the example cluster of tests/conftest.py is a bug in the example or the command.
"""

from __future__ import annotations

import shlex

import libvirt
import pytest

from cairn.cli import help as helptext
from cairn.cli import tree

COMMANDS = [tuple(words) for words in tree.all_commands()]

# The VM the examples name, on a container reached through libvirt's in-process
# test driver (in the example cluster's template: tests/cluster_kit.py), and
# what must be true before an example of a lifecycle command can do its work (a
# VM must run before it can be paused, ...).
CLUSTER_SETUP = [
    # The containers' interfaces on private: VMs there are bridged onto br0.
    "cairn add host interface vm-container-0-0 eth8 ip=10.1.255.240 subnet=private",
    "cairn add host interface vm-container-0-1 eth8 ip=10.1.255.241 subnet=private",
    "cairn set host attr vm-container-0-0 kvm_connection test:///default",
    "cairn set host attr vm-container-0-1 kvm_connection test:///default",
    "cairn add host vm vm-container-0-0",
]
START = "cairn start host vm hosted-vm-0-0-0"
QCOW2 = "cairn set host vm hosted-vm-0-0-0 disk=qcow2:/var/lib/libvirt/images/hosted-vm-0-0-0.vda"
SNAPSHOT = "cairn add host vm snapshot hosted-vm-0-0-0 before-upgrade"
CLUSTER = "cairn add cluster lab computes=1 subnet=10.77.0.0/24 public=none mem=64"
OWNER = "cairn create keys key=~/.cairn/lab-owner passphrase=no"
GIVEN = {
    "stop host vm": [START],
    "pause host vm": [START],
    "resume host vm": [START, "cairn pause host vm hosted-vm-0-0-0"],
    "save host vm": [START],
    "restore host vm": [START, "cairn save host vm hosted-vm-0-0-0"],
    "remove os": ["cairn add os centos"],
    "remove bootaction": ["cairn add bootaction rescue kernel=vmlinuz-rescue"],
    "set host interface vlan": ["cairn add network v3 isolation=vlan id=3"],
    "start cluster": ["cairn add cluster lab computes=1 subnet=10.77.0.0/24 public=none mem=64"],
    "stop cluster": ["cairn add cluster lab computes=1 subnet=10.77.0.0/24 public=none mem=64"],
    "remove cluster": ["cairn add cluster lab computes=1 subnet=10.77.0.0/24 public=none mem=64"],
    "set cluster power": [CLUSTER],
    "list host macs": [CLUSTER],
    "add host key": [CLUSTER, OWNER],
    "list host key": [CLUSTER, OWNER, "cairn add host key lab key=~/.cairn/lab-owner.pub"],
    "remove host key": [CLUSTER, OWNER, "cairn add host key lab key=~/.cairn/lab-owner.pub"],
    "report host vm vnc": [START],
    "add host vm snapshot": [QCOW2, START],
    "list host vm snapshot": [QCOW2, START, SNAPSHOT],
    "revert host vm snapshot": [QCOW2, START, SNAPSHOT],
    "remove host vm snapshot": [QCOW2, START, SNAPSHOT],
    "container shutdown": [START],
    "report host profile": ["cairn create keys"],
    # Rocks' form: the frontend is on public, and installs with Rocks' boot action.
    "add cluster": [
        "cairn add host interface vm-container-0-0 eth9 subnet=public",
        "cairn add bootaction 'install vm frontend' kernel=vmlinuz",
    ],
    "set host installaction": [
        "cairn add bootaction install kernel=vmlinuz",
        "cairn add bootaction 'install vm frontend' kernel=vmlinuz",
    ],
}
# libvirt's test driver has no consoles: these examples run against the real
# libvirtd in tests/system/test_system_daily.py instead.
REAL_ONLY = {"open host console"}
# The web page's link needs the page on: the state its listener leaves beside
# the service's socket (tests/unit/web runs the page itself in a browser).
PAGE_ON = {"report web"}


def _examples() -> list:
    params = []
    for words in COMMANDS:
        title = " ".join(words)
        for i, example in enumerate(tree.load(words).examples):
            params.append(pytest.param(title, example.command, id=f"{title}-{i}"))
    return params


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w) for w in COMMANDS])
def test_command_declares_summary_and_examples(words):
    command = tree.load(words)
    title = " ".join(words)
    assert helptext.summary(command), f"{title}: no summary (first docstring line)"
    assert command.examples, f"{title}: no examples in its help"
    for example in command.examples:
        assert example.says.strip(), example
        argv = shlex.split(example.command)
        assert argv[0] == "cairn", example.command
        # The example runs this very command, not a longer or shorter one.
        assert tree.longest_command(argv[1:]) == len(words), example.command
        assert argv[1 : 1 + len(words)] == list(words)


@pytest.mark.parametrize(("title", "command"), _examples())
def test_example_runs(example_cluster, title, command):
    _runs(example_cluster, title, command)


@pytest.mark.parametrize(("title", "command"), _examples())
def test_example_runs_in_process(sqlite_example_cluster, title, command):
    """The same in the cairn process itself (CAIRN_SERVICE=off), on SQLite."""
    sqlite_example_cluster.in_process = True
    _runs(sqlite_example_cluster, title, command)


def _runs(example_cluster, title, command):
    if title in REAL_ONLY:
        pytest.skip("needs a real libvirtd; run by tests/system/test_system_daily.py")
    if "airboss=" in command:  # a tenant's request: an Airboss must listen
        pytest.skip(
            "run through a real Airboss by tests/unit/airboss/test_airboss_tenant_commands.py"
        )
    keep = libvirt.open("test:///default")  # the test driver's host lives while one is open
    try:
        for line in GIVEN.get(title, []):
            given = example_cluster.line(line)
            assert given.code == 0, f"{line}: {given.err}"
        if title in PAGE_ON:
            from cairn.service.address import key_env, socket_path
            from cairn.web import links

            links.publish(socket_path(key_env()), ["http://127.0.0.1:8678"], b"k" * 32)
        if title == "watch":  # the service itself: a process of its own, none running
            result = example_cluster.process(*shlex.split(command)[1:], alone=True)
        else:
            result = example_cluster.line(command)
    finally:
        if title in PAGE_ON:
            links.withdraw(socket_path(key_env()))
        for dom in keep.listAllDomains():
            if dom.name() != "test":
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(
                    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                )
        keep.close()
    assert result.code == 0, f"{command}: {result.err}"
    assert "error" not in result.err
