"""`cairn add host vm`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Text
from cairn.cli.spec import Command as Base
from cairn.commands._vm import CPUS, DISK, DISKSIZE, MEM, SLICE, UUID, VIRT_TYPE

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Defines a virtual machine on a VM container.

    The container's appliance must be vm-container, or its resolved attribute
    kvm must be true. The VM is a host of its own (appliance hosted-vm unless
    given), named <appliance>-<container rack>-<container rank>-<slice> with
    the next free slice unless name= is given. Defaults as in Rocks: 1024 MB,
    1 CPU, 1 MAC on the private network (when the database has one), one
    36 GB virtio disk under the container's kvm_disk_dir (default
    /var/lib/libvirt/images). Disk SPEC: TYPE:PATH,DEVICE,BUS with TYPE file
    (raw) | qcow2 | phy and BUS virtio | ide | scsi | sata; DEVICE is an
    ordering hint, as in Rocks: a name an earlier disk took is replaced by
    the next free one, with a warning.
    MACs come from vm_mac_base_addr/vm_mac_base_addr_mask (default 52:54:00:*).
    """

    args = (
        Arg("container", "the VM container that runs it"),
        Arg(
            "appliance",
            "the VM's appliance (default hosted-vm)",
            required=False,
            convert=values.label,
        ),
    )
    params = (
        Param("name", "the VM's host name", convert=values.label, metavar="NAME"),
        replace(MEM, default=1024),
        replace(CPUS, default=1),
        replace(SLICE, help="slot on the container (default: next free)"),
        Param(
            "mac", "a MAC address (repeat for more)", convert=values.mac, many=True, metavar="MAC"
        ),
        Param("num-macs", "number of network interfaces", 1, values.integer(0, 32), metavar="N"),
        DISK,
        DISKSIZE,
        Param(
            "vlan",
            "VLAN of each interface in order, comma-separated; none for one without (3,none,5)",
            [],
            values.vlans,
            metavar="ID,...",
        ),
        Param("ip", "IP of the first interface", convert=values.ip, metavar="IP"),
        Param(
            "subnet",
            "network of the first interface (default: private, if it exists)",
            convert=values.label,
            metavar="NETWORK",
        ),
        replace(VIRT_TYPE, default="hvm"),
        UUID,
    )
    writes = True
    in_batch = True
    examples = (
        Example("cairn add host vm vm-container-0-0", "Defines hosted-vm-0-0-0 with the defaults."),
        Example(
            "cairn add host vm vm-container-0-1 mem=4096 cpus=2 num-macs=2 disksize=100"
            " subnet=private",
            "A bigger VM with two NICs, the first on the private network.",
        ),
    )
    related = ("list host vm", "set host vm", "start host vm", "report host vm config")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.vms.define import NewVM, add

        vm = add(
            ctx.session,
            NewVM(
                container=a["container"],
                appliance=a["appliance"] or "hosted-vm",
                name=a["name"],
                memory_mb=a["mem"],
                cpus=a["cpus"],
                slice=a["slice"],
                macs=a["mac"],
                num_macs=a["num_macs"],
                disks=a["disk"],
                disksizes=a["disksize"],
                vlans=a["vlan"],
                ip=a["ip"],
                subnet=a["subnet"],
                virt_type=a["virt_type"] or "hvm",
                uuid=a["uuid"],
                notes=ctx.notes,
            ),
        )
        return Text(f"added {vm.host.name} on {vm.container.name} slice {vm.slice}\n")
