"""What a database writer may point a VM at on its container: files, directories,
sockets and host devices.

Disks, CDROMs and device XML (kvm_device_N) are data that anyone who can write
the database controls, and libvirt opens, creates, grows and deletes what they
name as root: `disk=file:/etc/shadow` would give a VM the shadow file, a
`<filesystem>` with `<source dir="/"/>` the container's root. So:

- a file or directory (a disk, a CDROM image, a filesystem source, a socket, a
  log) must lie in one of the directories of `vm_storage_dirs`;
- a host device (a phy disk, a CDROM drive, a device in kvm_device_N) must be
  one of `vm_host_devices` (an entry ending in / allows what lies under it);
  passthrough of host PCI, USB or SCSI devices (`<hostdev>`, a hostdev
  interface, an NVMe disk) only if it lists "pci", "usb" or "scsi";
- programs (`<script>`, virtiofs `<binary>`) and the host's smartcard are never
  taken from the database.

Both lists come from the administrator's config file (cairn.config), with
DEFAULT_DIRS and DEFAULT_DEVICES when it names none. They are checked when a
value is set and again before it is used (domain XML, volumes, the profile).
What belongs here: the lists and the checks; not where they are called from.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cairn.errors import CairnError

DIRS_KEY = "vm_storage_dirs"
DEVICES_KEY = "vm_host_devices"
DEFAULT_DIRS = ("/var/lib/libvirt/images", "/var/lib/libvirt/qemu/save", "/state/partition1")
DEFAULT_DEVICES = ("/dev/urandom", "/dev/random", "/dev/hwrng")  # sources of <rng>

# The attributes that name a place on the container, by element (libvirt's
# domain XML: disk and filesystem sources, chardev paths and logs, sockets,
# TPM passthrough, shared memory servers, audio files and devices, lease files,
# GPU render nodes).
_PLACES = {
    "source": ("file", "dir", "dev", "path", "socket", "evdev"),
    "log": ("file",),
    "device": ("path",),
    "server": ("path",),
    "listen": ("socket",),
    "graphics": ("socket",),
    "audio": ("path",),
    "host": ("socket",),
    "target": ("path",),
    "gl": ("rendernode",),
    "input": ("dev",),
    "output": ("dev",),
}
_NEVER = {"script": "a program to run", "downscript": "a program to run", "binary": "a program"}


@dataclass(frozen=True)
class Reach:
    dirs: tuple[str, ...] = DEFAULT_DIRS
    devices: tuple[str, ...] = DEFAULT_DEVICES

    def file(self, path: str, what: str) -> str:
        """`path` if it lies in one of the storage directories."""
        if _normal(path) and any(_under(path, d) for d in self.dirs):
            return path
        raise CairnError(
            f"{what}: {path} is outside the directories VMs may use ({', '.join(self.dirs)});"
            f" use a path in one of them, or an administrator may add a directory to"
            f" {DIRS_KEY} in {_config_path()}"
        )

    def device(self, path: str, what: str) -> str:
        """`path` if it is a host device VMs may use."""
        if path in self.devices or (
            _normal(path) and any(d.endswith("/") and path.startswith(d) for d in self.devices)
        ):
            return path
        raise CairnError(
            f"{what}: host device {path} is not one VMs may use; an administrator may"
            f' allow it with {DEVICES_KEY} = ["{path}"] in {_config_path()}'
        )

    def place(self, path: str, what: str) -> str:
        """A file in the storage directories, or an allowed device."""
        if path.startswith("/dev/") or not path.startswith("/"):
            return self.device(path, what)
        return self.file(path, what)

    def disk(self, kind: str, path: str, what: str) -> str:
        """A disk of a VM definition: phy disks are devices, the others files."""
        return self.device(path, what) if kind == "phy" else self.file(path, what)

    def elements(self, elements: Iterable[Any], what: str) -> None:
        """Refuse device XML that names a place outside reach, a host device or a program."""
        for root in elements:
            for element in root.iter():
                tag = element.tag if isinstance(element.tag, str) else ""
                never = _NEVER.get(tag) or _smartcard(element)
                if never:
                    raise CairnError(
                        f"{what}: <{tag}> would give the VM {never} of the container;"
                        " cairn does not take that from the database"
                    )
                bus = _passthrough(element)
                if bus and bus not in self.devices:
                    raise CairnError(
                        f"{what}: <{tag}> passes a host {bus.upper()} device through to the"
                        f" VM; an administrator may allow that with {DEVICES_KEY} ="
                        f' ["{bus}"] in {_config_path()}'
                    )
                for name in _PLACES.get(tag, ()):
                    value = element.get(name)
                    if value is not None:
                        self.place(value, what)
                if tag == "path" or (tag == "backend" and element.get("model") == "random"):
                    self.place((element.text or "").strip(), what)


def _passthrough(element: Any) -> str:
    """The bus of a host device the element passes through ("" for none)."""
    kind = element.get("type") or ""
    if element.tag == "hostdev":
        return {"scsi_host": "scsi", "mdev": "pci"}.get(kind, kind or "pci")
    if (element.tag, kind) in (("interface", "hostdev"), ("disk", "nvme")):
        return "pci"
    return ""


def _smartcard(element: Any) -> str:
    host = element.tag == "smartcard" and (element.get("mode") or "").startswith("host")
    return "the smartcard reader" if host else ""


def _normal(path: str) -> bool:
    return path.startswith("/") and posixpath.normpath(path) == path and "\n" not in path


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _config_path() -> str:
    from cairn.config import config_path

    return str(config_path())


def reach() -> Reach:
    """The lists of the administrator's config file, or the defaults."""
    from cairn.config import config

    found = config()
    dirs = listed(found, DIRS_KEY, DEFAULT_DIRS)
    if not all(_normal(d.rstrip("/") or "/") for d in dirs):
        raise CairnError(f"{DIRS_KEY} in {_config_path()} must list absolute, normalised paths")
    return Reach(dirs, listed(found, DEVICES_KEY, DEFAULT_DEVICES))


def listed(found: dict[str, object], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """The list of paths under `key` in the config file `found`, or `default`."""
    given = found.get(key)
    if given is None:
        return default
    if not isinstance(given, list) or not all(isinstance(p, str) and p for p in given):
        raise CairnError(
            f'{key} in {_config_path()} must be a list of paths, such as ["{default[0]}"]'
        )
    return tuple(given)
