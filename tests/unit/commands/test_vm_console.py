"""What `open host console` and `report host vm vnc` decide without a guest."""

from __future__ import annotations

import pytest

from cairn.commands.open.host.console import _escape
from cairn.commands.report.host.vm.vnc import how_to_reach
from cairn.hypervisor.console import escape_name


@pytest.mark.parametrize(("word", "key"), [("^]", b"\x1d"), ("^a", b"\x01"), ("^_", b"\x1f")])
def test_escape_keys_are_control_keys_and_print_back_as_typed(word, key):
    assert _escape(word) == key
    assert escape_name(key) == word.upper()


@pytest.mark.parametrize("word", ["q", "^", "^1", "]]", "^]x"])
def test_an_escape_that_is_no_control_key_is_refused(word):
    with pytest.raises(ValueError, match="not a control key"):
        _escape(word)


def test_a_remote_display_is_reached_through_an_ssh_tunnel_to_its_loopback_port():
    lines = how_to_reach("vm1", "qemu+ssh://admin@compute-0-1:2222/system", 5901, "127.0.0.1")
    assert lines[1:] == [
        "ssh -p 2222 -N -L 5900:127.0.0.1:5901 admin@compute-0-1 &",
        "vncviewer 127.0.0.1::5900",
    ]


def test_a_local_display_needs_no_tunnel():
    assert how_to_reach("vm1", "qemu:///system", 5903, "")[1:] == ["vncviewer 127.0.0.1::5903"]


def test_a_display_open_to_the_network_is_pointed_out():
    lines = how_to_reach("vm1", "qemu+tls://c1/system", 5900, "0.0.0.0")
    assert any("warning: it listens on 0.0.0.0" in line for line in lines)
    assert "ssh -N -L 5900:127.0.0.1:5900 c1 &" in lines


def test_a_console_of_a_vm_that_is_off_is_refused(example_cluster):
    import libvirt

    keep = libvirt.open("test:///default")
    try:
        example_cluster.ok("set", "host", "attr", "vm-container-0-0", "kvm_connection",
                           "test:///default")  # fmt: skip
        example_cluster.ok("add", "host", "vm", "vm-container-0-0", "name=offvm")
        example_cluster.ok("start", "host", "vm", "offvm")
        example_cluster.ok("stop", "host", "vm", "offvm")

        done = example_cluster("open", "host", "console", "offvm", "seconds=1")
    finally:
        for dom in keep.listAllDomains():
            if dom.name() != "test":
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
        keep.close()
    assert done.code == 1
    assert "offvm is shutoff: its console exists only while it runs" in done.err


@pytest.mark.parametrize(
    ("device", "said"),
    [
        ("<graphics type='vnc' listen='0.0.0.0'/>", "listening on 0.0.0.0"),
        ("<graphics type='vnc'><listen type='address' address='10.1.1.1'/></graphics>",
         "listening on 10.1.1.1"),
        ("<graphics type='spice'><listen type='network' network='default'/></graphics>",
         "listening on network default"),
    ],
)  # fmt: skip
def test_a_display_on_a_network_address_is_refused(cluster, device, said):
    done = cluster("set", "host", "attr", "vm-container-0-0", "kvm_device_1", device)
    assert done.code == 1
    assert said in done.err and "would be open to the network" in done.err


def test_a_display_on_loopback_or_a_socket_is_accepted(cluster):
    cluster.ok("set", "attr", "kvm_device_1", "<graphics type='vnc' listen='127.0.0.1'/>")
    cluster.ok("set", "attr", "kvm_device_2",
               "<graphics type='spice'><listen type='socket'/></graphics>")  # fmt: skip
