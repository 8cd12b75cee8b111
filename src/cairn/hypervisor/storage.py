"""Disk volumes on a container, through libvirt storage pools only (no ssh, no shell).

A directory holding VM disks is a libvirt `dir` pool: an existing pool whose
target is that directory is reused, else Cairn defines one named
`cairn-<sha1(dir)[:12]>`. Volume and pool XML is built with lxml. Deciding
which disks a VM gets belongs in the designer, not here.
"""

from __future__ import annotations

import hashlib
import posixpath
import threading

import libvirt
from lxml import etree

from cairn.hypervisor._xml import parse
from cairn.hypervisor.errors import StorageError, classify

FORMATS = ("raw", "qcow2")
# Threads of one command creating disks in the same new directory must not
# both define its pool; other processes are handled by re-reading on conflict.
_pool_lock = threading.Lock()


def check_path(path: str) -> str:
    """`path` if it is absolute, normalised, below a directory other than /; else StorageError.

    Control characters are refused too (they cannot be written into XML).
    """
    if (
        not path.startswith("/")
        or path.startswith("//")
        or posixpath.normpath(path) != path
        or ".." in path.split("/")
        or posixpath.dirname(path) == "/"
        or any(ord(c) < 32 or c == "\x7f" for c in path)
    ):
        raise StorageError(f"invalid disk path {path!r}: use an absolute, normalised file path")
    return path


def pool_name(directory: str) -> str:
    return "cairn-" + hashlib.sha1(directory.encode()).hexdigest()[:12]


def volume_xml(name: str, size_gib: int, fmt: str) -> str:
    """A sparse volume (allocation 0) of `size_gib` GiB in format raw or qcow2."""
    vol = etree.Element("volume")
    etree.SubElement(vol, "name").text = name
    etree.SubElement(vol, "capacity", unit="GiB").text = str(size_gib)
    etree.SubElement(vol, "allocation", unit="bytes").text = "0"
    target = etree.SubElement(vol, "target")
    etree.SubElement(target, "format", type=fmt)
    return str(etree.tostring(vol, encoding="unicode"))


def _pool_xml(name: str, directory: str) -> str:
    pool = etree.Element("pool", type="dir")
    etree.SubElement(pool, "name").text = name
    etree.SubElement(etree.SubElement(pool, "target"), "path").text = directory
    return str(etree.tostring(pool, encoding="unicode"))


def _find_pool(conn: libvirt.virConnect, directory: str) -> libvirt.virStoragePool | None:
    for pool in conn.listAllStoragePools(0):
        target = parse(pool.XMLDesc(0)).findtext("target/path")
        if target and posixpath.normpath(target) == directory:
            return pool
    return None


def _pool_for(conn: libvirt.virConnect, directory: str) -> libvirt.virStoragePool:
    """The active pool for `directory`, defining and starting one if needed."""
    with _pool_lock:
        pool = _find_pool(conn, directory)
        made = False
        if pool is None:
            try:
                pool = conn.storagePoolDefineXML(_pool_xml(pool_name(directory), directory), 0)
                made = True
            except libvirt.libvirtError:
                # Another Cairn process may have defined it meanwhile.
                pool = _find_pool(conn, directory)
                if pool is None:
                    raise
        if not pool.isActive():
            try:
                # Building a dir pool is `mkdir -p`; for other types (logical,
                # disk) it formats devices, so a reused pool of those is only started.
                if parse(pool.XMLDesc(0)).get("type") == "dir":
                    pool.build(0)
                pool.create(0)
            except libvirt.libvirtError:
                if made:  # leave nothing behind for a directory that cannot be used
                    pool.undefine()
                raise
        if made:
            pool.setAutostart(1)  # survive a container reboot
        return pool


def _refresh(pool: libvirt.virStoragePool) -> None:
    # Files made outside libvirt appear only after a refresh. libvirt refuses
    # a refresh while another volume is being created in the pool; that
    # creation updates the list anyway.
    try:
        pool.refresh(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
            raise


def _lookup(pool: libvirt.virStoragePool, name: str) -> libvirt.virStorageVol | None:
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None
        raise


def ensure_volume(conn: libvirt.virConnect, path: str, size_gib: int, fmt: str) -> bool:
    """Make sure the disk at `path` exists; True if it was created now.

    An existing volume is left as it is, whatever its size or format.
    """
    check_path(path)
    if fmt not in FORMATS:
        raise StorageError(f"invalid disk format {fmt!r} for {path}: use raw or qcow2")
    if isinstance(size_gib, bool) or not isinstance(size_gib, int) or size_gib <= 0:
        raise StorageError(f"invalid disk size {size_gib!r} GiB for {path}: use a positive integer")
    directory, name = posixpath.split(path)
    try:
        pool = _pool_for(conn, directory)
        _refresh(pool)
        if _lookup(pool, name) is not None:
            return False
        try:
            pool.createXML(volume_xml(name, size_gib, fmt), 0)
        except libvirt.libvirtError:
            if _lookup(pool, name) is not None:  # created concurrently
                return False
            raise
    except libvirt.libvirtError as exc:
        raise classify(exc, f"cannot create disk {path}", StorageError) from None
    return True


def delete_volume(conn: libvirt.virConnect, path: str) -> bool:
    """Delete the disk at `path`; False if libvirt knows no such volume.

    A directory that no pool covers holds no volume Cairn made (ensure_volume
    always leaves a pool), so it is not searched.
    """
    check_path(path)
    directory, name = posixpath.split(path)
    try:
        pool = _find_pool(conn, directory)
        if pool is None:
            return False
        if not pool.isActive():
            pool.create(0)
        _refresh(pool)
        vol = _lookup(pool, name)
        if vol is None:
            return False
        vol.delete(0)
    except libvirt.libvirtError as exc:
        raise classify(exc, f"cannot delete disk {path}", StorageError) from None
    return True


GIB = 1024**3


def _volume(conn: libvirt.virConnect, path: str) -> libvirt.virStorageVol | None:
    directory, name = posixpath.split(check_path(path))
    pool = _find_pool(conn, directory)
    if pool is None:
        return None
    if not pool.isActive():
        pool.create(0)
    _refresh(pool)
    return _lookup(pool, name)


def volume_exists(conn: libvirt.virConnect, path: str) -> bool:
    """Whether a file (volume) is at `path` on the container (its directory's
    pool defined and started if it was not, as for a disk)."""
    directory, name = posixpath.split(check_path(path))
    try:
        pool = _pool_for(conn, directory)
        _refresh(pool)
        return _lookup(pool, name) is not None
    except libvirt.libvirtError as exc:
        raise classify(exc, f"cannot look for {path}", StorageError) from None


def capacity(conn: libvirt.virConnect, path: str) -> int | None:
    """The size in bytes the guest sees of the disk at `path`; None if no such volume."""
    try:
        vol = _volume(conn, path)
        return None if vol is None else int(vol.info()[1])
    except libvirt.libvirtError as exc:
        raise classify(exc, f"cannot read the size of disk {path}", StorageError) from None


def grow_volume(conn: libvirt.virConnect, path: str, size_gib: int) -> bool:
    """Grow the (unused) volume at `path` to `size_gib` GiB; False if it is that big already.

    Shrinking is refused: the guest's partitions and file systems would lose
    their end. A running guest's disk is grown with `Guest.block_resize` instead.
    """
    try:
        vol = _volume(conn, path)
        if vol is None:
            raise StorageError(f"cannot grow disk {path}: there is no such volume")
        now = int(vol.info()[1])
        wanted = size_gib * GIB
        if wanted < now:
            raise StorageError(shrink_refused(path, now, size_gib))
        if wanted == now:
            return False
        vol.resize(wanted, 0)
    except libvirt.libvirtError as exc:
        raise classify(exc, f"cannot grow disk {path}", StorageError) from None
    return True


def shrink_refused(path: str, now: int, size_gib: int) -> str:
    return (
        f"disk {path} is {now / GIB:g} GiB and cannot shrink to {size_gib} GiB: the data at"
        " its end would be lost; give a size of at least its own"
    )
