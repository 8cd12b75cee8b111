"""What a database writer may point a VM at (cairn.vms.reach): with an installed
cairn's defaults, files only under /var/lib/libvirt/images, its save directory
and /state/partition1, no host device but the random sources, no program;
refused in one line when set, and again when a row written straight into the
database is used."""

from __future__ import annotations

import pytest

from cairn.errors import CairnError
from cairn.vms.reach import Reach
from testkit import one_error_line, write_behind

CONTAINER = "vm-container-0-0"
VM = "hosted-vm-0-0-0"
IMAGES = "/var/lib/libvirt/images"
ROOT_FS = "<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>"
SHADOW_DISK = (
    "<disk type='file' device='disk'><source file='/etc/shadow'/>"
    "<target dev='vdc' bus='virtio'/></disk>"
)
REFUSED_DEVICES = [
    ROOT_FS,
    SHADOW_DISK,
    f"<disk type='file' device='disk'><source file='{IMAGES}/../../../../etc/shadow'/>"
    "<target dev='vdc'/></disk>",
    "<disk type='block' device='disk'><source dev='/dev/sda'/><target dev='vdc'/></disk>",
    "<serial type='file'><source path='/etc/cron.d/vm'/><target port='1'/></serial>",
    "<serial type='pty'><log file='/root/.bashrc'/><target port='1'/></serial>",
    "<interface type='ethernet'><script path='/tmp/evil'/></interface>",
    "<interface type='direct'><source dev='eth0' mode='bridge'/></interface>",
    "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
    "<address domain='0' bus='6' slot='2' function='0'/></source></hostdev>",
    "<rng model='virtio'><backend model='random'>/dev/sda</backend></rng>",
    "<filesystem type='mount'><driver type='virtiofs'/><binary path='/tmp/evil'/>"
    f"<source dir='{IMAGES}/share'/><target dir='share'/></filesystem>",
    "<input type='passthrough' bus='virtio'><source evdev='/dev/input/event0'/></input>",
]
TAKEN_DEVICES = [
    f"<filesystem type='mount'><source dir='{IMAGES}/share'/><target dir='share'/></filesystem>",
    "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    "<serial type='pty'><target port='1'/></serial>",
    "<disk type='file' device='disk'><source file='/state/partition1/vm/extra.img'/>"
    "<target dev='vdc'/></disk>",
]


@pytest.fixture
def vm_cli(cli, config, hv):
    """A VM on a container reached at libvirt's test driver (a fresh one: `hv`)."""
    cli.ok("set", "attr", "kvm_connection", "test:///default")
    cli.ok("add", "host", CONTAINER, "appliance=vm-container")
    cli.ok("add", "host", "vm", CONTAINER, "name=" + VM)
    return cli


def _refused(cli, *words: str) -> str:
    before = cli.dump()
    done = cli(*words)
    assert done.code == 1, done.out
    assert cli.dump() == before
    return one_error_line(done.err)


@pytest.mark.parametrize("value", REFUSED_DEVICES)
def test_device_xml_out_of_reach_is_refused_when_set(config, value):
    from cairn import attrcheck

    with pytest.raises(CairnError, match=r"kvm_device_0 for host h: .*(outside|not one|<)"):
        attrcheck.check("kvm_device_0", value, "host h")


@pytest.mark.parametrize("value", TAKEN_DEVICES)
def test_device_xml_within_reach_is_taken(config, value):
    from cairn import attrcheck

    attrcheck.check("kvm_device_0", value, "host h")


def test_the_shadow_file_and_the_root_file_system_are_refused_in_one_line(vm_cli):
    for words in (
        ("set", "host", "attr", VM, "kvm_device_0", ROOT_FS),
        ("set", "appliance", "attr", "hosted-vm", "kvm_device_1", SHADOW_DISK),
        ("add", "host", "vm", "disk", VM, "disk=file:/etc/shadow,vdc,virtio"),
        ("add", "host", "vm", CONTAINER, "name=other", "disk=file:/etc/shadow,vda,virtio"),
        ("set", "host", "vm", "cdrom", VM, "cdrom=/etc/shadow"),
        ("set", "attr", "kvm_disk_dir", "/etc"),
        ("set", "host", "attr", CONTAINER, "kvm_save_dir", "/etc/cron.d"),
    ):
        assert "outside the directories VMs may use" in _refused(vm_cli, *words), words
    line = _refused(vm_cli, "add", "host", "vm", "disk", VM, "disk=phy:/dev/sda,vdc,virtio")
    assert "vm_host_devices" in line
    line = _refused(vm_cli, "set", "host", "vm", "cdrom", VM, "cdrom=/dev/sr0")
    assert "vm_host_devices" in line


def test_the_defaults_take_what_rocks_uses(vm_cli):
    vm_cli.ok("add", "host", "vm", "disk", VM, "disk=file:/state/partition1/kvm/a.vdb,vdb")
    vm_cli.ok("set", "host", "vm", "cdrom", VM, f"cdrom={IMAGES}/rescue.iso")
    vm_cli.ok("set", "attr", "kvm_disk_dir", "/state/partition1/kvm/disks")
    vm_cli.ok("set", "host", "attr", VM, "kvm_device_0", TAKEN_DEVICES[0])
    assert "rescue.iso" in vm_cli.ok("report", "host", "vm", "config", VM)


def test_the_config_file_widens_and_narrows_the_reach(vm_cli, config):
    config.write_text('vm_storage_dirs = ["/srv/vms"]\nvm_host_devices = ["/dev/sdb", "pci"]\n')
    vm_cli.ok("add", "host", "vm", "disk", VM, "disk=file:/srv/vms/b.img,vdb")
    vm_cli.ok("add", "host", "vm", "disk", VM, "disk=phy:/dev/sdb,vdc")
    vm_cli.ok("set", "host", "attr", VM, "kvm_device_0", REFUSED_DEVICES[8])  # the hostdev
    # The default disk of the VM lies outside the directories now named.
    line = one_error_line(vm_cli("report", "host", "vm", "config", VM).err)
    assert f"{IMAGES}/{VM}.vda" in line and "/srv/vms" in line
    config.write_text('vm_storage_dirs = "/srv/vms"\n')
    assert "must be a list" in _refused(vm_cli, "add", "host", "vm", "disk", VM, "disk=file:/x")


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        (
            "INSERT INTO host_attrs (host_id, name, value)"
            f" SELECT id, 'kvm_device_0', :v FROM hosts WHERE name = '{VM}'",
            "kvm_device_0 of host",
        ),
        ("UPDATE vm_disks SET path = '/etc/shadow'", "disk /etc/shadow"),
        ("UPDATE vms SET cdrom = '/etc/shadow'", "cdrom of"),
    ],
)
def test_a_row_written_behind_cairns_back_is_refused_when_used(vm_cli, statement, said):
    write_behind(vm_cli.url, statement, v=ROOT_FS.replace("<", "&lt;").replace(">", "&gt;"))
    done = vm_cli("report", "host", "vm", "config", VM)
    assert done.code == 1
    line = one_error_line(done.err)
    assert said in line and ("outside the directories" in line), line


def test_paths_are_compared_whole_and_normalised():
    reach = Reach()
    assert reach.file(f"{IMAGES}/a.img", "disk") == f"{IMAGES}/a.img"
    for path in (f"{IMAGES}-evil/a.img", f"{IMAGES}/../a.img", "/etc/shadow", "relative.img"):
        with pytest.raises(CairnError, match="outside"):
            reach.file(path, "disk")
    assert reach.place("/dev/urandom", "rng") == "/dev/urandom"
    with pytest.raises(CairnError, match="vm_host_devices"):
        reach.place("/dev/sda", "disk")
