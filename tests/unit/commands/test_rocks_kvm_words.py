"""Rocks' KVM-roll words that t6000 uses (issue 23): `add cluster IP N` in
Rocks' form, `report nextip`, `set host installaction`, `list host interface
disablekvm`, a virtual frontend's install line, and `dump host vm` as Rocks
wrote it."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from lxml import etree

from cairn.domainxml import schema
from testkit import vm_summary, write_behind

FRONTEND_ACTION = "install vm frontend"


def error_line(result: Any) -> str:
    assert result.code != 0, f"expected a refusal, got {result}"
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error - "), result.err
    return lines[0]


def domain(cli: Any, name: str) -> etree._Element:
    root = etree.fromstring(cli.ok("report", "host", "vm", "config", name).encode())
    schema.validate(root, what=f"report of {name}")
    return root


@pytest.fixture
def frontend(cli: Any) -> Any:
    """This machine as a Rocks frontend that holds VMs: private and public, the
    public gateway and DNS server, Rocks' boot action for virtual frontends."""
    for line in (
        "set host attr localhost kvm true",
        "set host attr localhost kvm_connection test:///default",
        "set network public subnet=192.0.2.0/24",
        "add host interface localhost eth0 subnet=private ip=10.1.1.1",
        "add host interface localhost eth1 subnet=public ip=192.0.2.2",
        "set attr Kickstart_PublicGateway 192.0.2.1",
        "set attr Kickstart_PublicDNSServers 192.0.2.53,192.0.2.54",
    ):
        cli.ok(*shlex.split(line))
    return cli


def add_frontend_action(cli: Any) -> None:
    cli.ok(
        "add", "bootaction", FRONTEND_ACTION, "kernel=vmlinuz-6.2", "ramdisk=initrd-6.2",
        "args=ip=bootp ksdevice=eth1 ks=http://10.1.1.1/ks",
    )  # fmt: skip


# -- report nextip ---------------------------------------------------------------------


def test_nextip_counts_down_from_the_top_and_skips_used_addresses(frontend: Any) -> None:
    cli = frontend
    assert cli.ok("report", "nextip", "public") == "192.0.2.254\n"
    cli.ok("add", "host", "interface", "localhost", "eth2", "subnet=public", "ip=192.0.2.254")
    assert cli.ok("report", "nextip", "public") == "192.0.2.253\n"
    up = cli.ok("report", "nextip", "public", "increment=1", "baseip=192.0.2.1")
    assert up == "192.0.2.3\n"  # .2 is localhost's eth1


def test_nextip_of_a_network_without_subnet_or_unknown_is_refused(cli: Any) -> None:
    assert "set network public subnet=" in error_line(cli("report", "nextip", "public"))
    assert "nowhere" in error_line(cli("report", "nextip", "nowhere"))


# -- set host installaction ------------------------------------------------------------


def test_installaction_names_an_existing_boot_action_or_none(frontend: Any) -> None:
    cli = frontend
    assert FRONTEND_ACTION in error_line(
        cli("set", "host", "installaction", "localhost", f"action={FRONTEND_ACTION}")
    )
    add_frontend_action(cli)
    cli.ok("set", "host", "installaction", "localhost", FRONTEND_ACTION)
    value = cli.ok("report", "host", "attr", "localhost", "attr=installaction")
    assert value == f"{FRONTEND_ACTION}\n"
    cli.ok("set", "host", "installaction", "localhost", "none")
    assert cli("report", "host", "attr", "localhost", "attr=installaction").code == 1


# -- list host interface disablekvm ----------------------------------------------------


def test_disablekvm_listing_says_true_or_false(frontend: Any) -> None:
    cli = frontend
    cli.ok("set", "host", "interface", "disablekvm", "localhost", "eth1", "True")
    rows = json.loads(
        cli.ok("list", "host", "interface", "disablekvm", "localhost", "output-format=json")
    )
    assert rows == [
        {"host": cli.ok("list", "host", "output-header=no").split()[0], "interface": "eth0",
         "disablekvm": "False"},
        {"host": rows[0]["host"], "interface": "eth1", "disablekvm": "True"},
    ]  # fmt: skip


# -- add cluster, Rocks' form ----------------------------------------------------------


def test_rocks_add_cluster_makes_the_cluster_t6000_expects(frontend: Any) -> None:
    cli = frontend
    add_frontend_action(cli)
    cli.ok("add", "cluster", "192.0.2.200", "2", "fe-name=fe", "cluster-naming=true",
           "mem-per-compute=512", "cpus-per-frontend=2", "disk-per-compute=10")  # fmt: skip
    rows = json.loads(cli.ok("list", "cluster", "fe", "output-format=json"))
    assert [(r["host"], r["role"]) for r in rows] == [
        ("fe", "frontend"),
        ("vm-fe-0", "compute"),
        ("vm-fe-1", "compute"),
    ]
    nics = json.loads(cli.ok("list", "host", "interface", "fe", "output-format=json"))
    assert [(n["iface"], n["subnet"]) for n in nics] == [("eth0", "fe"), ("eth1", "public")]
    assert nics[1]["ip"] == "192.0.2.200"
    fe_vm, compute = vm_summary(cli, "fe"), vm_summary(cli, "vm-fe-0")
    assert (fe_vm["mem"], fe_vm["cpus"]) == (1024, 2)
    assert (compute["mem"], compute["cpus"]) == (512, 1)
    assert compute["disks"].endswith(":10G")

    fe = domain(cli, "fe")
    assert fe.findtext("os/kernel") == "/tftpboot/vmlinuz-6.2"
    assert fe.findtext("os/initrd") == "/tftpboot/initrd-6.2"
    words = fe.findtext("os/cmdline").split()
    eth1_mac = nics[1]["mac"]
    assert f"ksdevice={eth1_mac}" in words
    for word in ("ip=192.0.2.200", "netmask=255.255.255.0", "dns=192.0.2.53",
                 "gateway=192.0.2.1"):  # fmt: skip
        assert word in words
    assert fe.find("os/boot") is None
    assert fe.findtext("on_reboot") == "destroy"  # the install ends when the installer reboots
    # Installed: it boots its disk, as any VM.
    cli.ok("set", "host", "boot", "fe", "action=os")
    fe = domain(cli, "fe")
    assert fe.find("os/kernel") is None
    assert fe.find("on_reboot") is None
    assert [b.get("dev") for b in fe.findall("os/boot")] == ["network", "hd"]
    # A compute installs from the network, never with the frontend's kernel.
    assert domain(cli, "vm-fe-0").find("os/kernel") is None


def test_rocks_add_cluster_without_the_boot_action_writes_nothing(frontend: Any) -> None:
    cli = frontend
    before = cli.dump()
    line = error_line(cli("add", "cluster", "192.0.2.200", "1", "fe-name=fe"))
    assert "add bootaction" in line
    assert cli.dump() == before


def test_rocks_add_cluster_names_default_and_checks(frontend: Any) -> None:
    cli = frontend
    add_frontend_action(cli)
    assert "fe-name=" in error_line(cli("add", "cluster", "192.0.2.200", "1", "cluster-naming=y"))
    assert "NUM-COMPUTES" in error_line(cli("add", "cluster", "192.0.2.200"))
    assert "Rocks' form" in error_line(cli("add", "cluster", "lab", "fe-name=x"))
    assert "computes=N" in error_line(cli("add", "cluster", "lab", "2"))
    cli.ok("add", "cluster", "192.0.2.200", "1")
    hosts = cli.ok("list", "host", "output-header=no")
    assert "frontend-0-0-0 " in hosts
    assert json.loads(cli.ok("list", "cluster", "output-format=json"))[1]["host"].startswith(
        "compute-"
    )  # add host vm's own name for a VM on that container


def test_install_line_values_are_checked_and_the_action_must_exist(frontend: Any) -> None:
    cli = frontend
    add_frontend_action(cli)
    cli.ok("add", "cluster", "192.0.2.200", "1", "fe-name=fe", "cluster-naming=yes")
    # An attribute value cannot add words to the installer's command line.
    cli.ok("set", "attr", "Kickstart_PublicGateway", "192.0.2.1 rd.break")
    line = error_line(cli("report", "host", "vm", "config", "fe"))
    assert "gateway" in line and "'192.0.2.1 rd.break'" in line
    cli.ok("set", "attr", "Kickstart_PublicGateway", "192.0.2.1")
    # Gone behind cairn's back (remove bootaction refuses one a host installs with).
    write_behind(cli.url, "DELETE FROM bootactions WHERE name = :n", n=FRONTEND_ACTION)
    assert "add bootaction" in error_line(cli("report", "host", "vm", "config", "fe"))
    assert domain(cli, "vm-fe-0").find("os/kernel") is None  # the others go on


# -- dump host vm ----------------------------------------------------------------------


def test_dump_host_vm_writes_the_host_positionally_unless_named_like_a_command(
    frontend: Any,
) -> None:
    cli = frontend
    cli.ok("add", "host", "vm", "localhost", "name=test-host-1")
    cli.ok("add", "host", "vm", "localhost", "name=cdrom")  # as `set host vm cdrom`
    dump = cli.ok("dump", "host", "vm")
    assert " test-host-1 physnode=" in dump
    assert " host=cdrom " in dump
    cli.ok("remove", "host", "vm", "test-host-1", "cdrom")
    for line in dump.splitlines():
        cli.ok(*shlex.split(line)[1:])
    assert cli.ok("dump", "host", "vm") == dump


# -- the KVM roll's other Rocks names ----------------------------------------------------


def test_nextmac_is_the_mac_add_host_vm_gives_next(example_cluster: Any) -> None:
    cli = example_cluster
    mac = cli.ok("report", "vm", "nextmac").strip()
    assert mac == cli.ok("report", "vm", "nextmac", "vm-container-0-0").strip()
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v1")
    nics = json.loads(cli.ok("list", "host", "interface", "v1", "output-format=json"))
    assert [n["mac"] for n in nics] == [mac]
    assert cli.ok("report", "vm", "nextmac").strip() != mac
    assert "compute-0-0" in error_line(cli("report", "vm", "nextmac", "compute-0-0"))


def test_virt_type_is_hvm(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v1")
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v2")
    assert cli.ok("report", "host", "vm", "virt_type", "v1") == "hvm\n"
    assert cli.ok("report", "host", "vm", "virt_type", "v*") == "v1: hvm\nv2: hvm\n"


def test_report_host_vlan_of_a_vm_is_its_containers(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "network", "v7", "isolation=vlan", "id=7")
    cli.ok("add", "host", "interface", "vm-container-0-0", "eth8", "subnet=private")
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v1", "subnet=v7")
    # A dry run reaches no host: it lists the plan, for the VM's container.
    for words in (("report", "host", "vlan", "v1"), ("sync", "host", "vlan", "v1", "dry-run=y")):
        rows = json.loads(cli.ok(*words, "output-format=json"))
        assert rows and {r["host"] for r in rows} == {"vm-container-0-0"}, rows
