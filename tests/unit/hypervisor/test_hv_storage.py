import libvirt
import pytest
from lxml import etree

from cairn.hypervisor.errors import ContainerUnreachable, StorageError
from cairn.hypervisor.storage import check_path, delete_volume, ensure_volume, pool_name

DISK = "/var/lib/cairn/disks/vm1.img"


def test_creates_pool_and_sparse_volume(conn):
    assert ensure_volume(conn, DISK, 10, "qcow2") is True
    pool = conn.storagePoolLookupByName(pool_name("/var/lib/cairn/disks"))
    assert pool.isActive() and pool.autostart()
    assert etree.fromstring(pool.XMLDesc(0)).findtext("target/path") == "/var/lib/cairn/disks"
    vol = conn.storageVolLookupByPath(DISK)
    _type, capacity, allocation = vol.info()
    assert capacity == 10 * 1024**3 and allocation == 0
    assert etree.fromstring(vol.XMLDesc(0)).find("target/format").get("type") == "qcow2"


def test_second_call_changes_nothing(conn):
    assert ensure_volume(conn, DISK, 10, "raw") is True
    assert ensure_volume(conn, DISK, 20, "raw") is False
    assert conn.storageVolLookupByPath(DISK).info()[1] == 10 * 1024**3


def test_pool_name_is_deterministic_and_safe():
    name = pool_name("/var/lib/cairn/disks")
    assert name == pool_name("/var/lib/cairn/disks") != pool_name("/other")
    assert name.startswith("cairn-") and len(name) == 18 and name[6:].isalnum()


def test_reuses_an_existing_pool_for_the_directory(conn):
    # the test driver's predefined "default-pool" has target /default-pool
    assert ensure_volume(conn, "/default-pool/vm2.img", 1, "raw") is True
    assert [p.name() for p in conn.listAllStoragePools(0)] == ["default-pool"]
    assert conn.storagePoolLookupByName("default-pool").listVolumes() == ["vm2.img"]


def test_starts_an_inactive_pool(conn):
    pool = conn.storagePoolLookupByName("default-pool")
    pool.destroy()
    assert ensure_volume(conn, "/default-pool/vm3.img", 1, "raw") is True
    assert pool.isActive()


@pytest.mark.parametrize(
    "path",
    ["disks/vm1.img", "/var/lib/../vm1.img", "/var//lib/vm1.img", "/var/lib/", "//x/vm1.img",
     "/vm1.img", "/", "/var/lib/./vm1.img", "/var/lib/vm\n1.img", ""],
)  # fmt: skip
def test_bad_paths_are_rejected(conn, path):
    with pytest.raises(StorageError, match="invalid disk path"):
        ensure_volume(conn, path, 1, "raw")
    with pytest.raises(StorageError):
        check_path(path)


@pytest.mark.parametrize(("size", "fmt"), [(0, "raw"), (-1, "raw"), (True, "raw"), (1, "vmdk")])
def test_bad_size_or_format_rejected(conn, size, fmt):
    with pytest.raises(StorageError):
        ensure_volume(conn, DISK, size, fmt)


def test_delete_volume(conn):
    assert delete_volume(conn, DISK) is False  # no pool for the directory yet
    ensure_volume(conn, DISK, 1, "raw")
    assert delete_volume(conn, DISK) is True
    with pytest.raises(libvirt.libvirtError):
        conn.storageVolLookupByPath(DISK)
    assert delete_volume(conn, DISK) is False


def test_libvirt_failure_becomes_storage_error_naming_the_path(conn):
    # a pool with Cairn's name for /var/lib/cairn/disks exists, but for another
    # directory: defining ours fails and no pool covers the directory
    squatter = etree.Element("pool", type="dir")
    etree.SubElement(squatter, "name").text = pool_name("/var/lib/cairn/disks")
    etree.SubElement(etree.SubElement(squatter, "target"), "path").text = "/elsewhere"
    conn.storagePoolDefineXML(etree.tostring(squatter, encoding="unicode"), 0)
    with pytest.raises(StorageError, match=f"^cannot create disk {DISK}: .*already exists") as info:
        ensure_volume(conn, DISK, 1, "raw")
    assert info.value.code == libvirt.VIR_ERR_OPERATION_FAILED


def test_lost_connection_is_unreachable_not_storage():
    conn = libvirt.open("test:///default")
    conn.close()
    with pytest.raises(ContainerUnreachable, match=f"^cannot create disk {DISK}: "):
        ensure_volume(conn, DISK, 1, "raw")
