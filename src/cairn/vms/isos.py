"""The ISO files a tenant (the owner of a virtual cluster, through the Airboss)
may put in its VMs' CDROM drives: regular files named *.iso under one of the
directories of `tenant_iso_dirs` in the administrator's config file
(cairn.config). None is open to tenants unless the administrator lists some.

A path is resolved (symbolic links followed) before it is judged, and both the
path as given and the file it resolves to must lie in the same directory, so a
link cannot lead out of it; the resolved path is what the VM gets. The root
commands still apply cairn.vms.reach (vm_storage_dirs) after this. What belongs
here: the tenant's rule for a CDROM path; not who is a tenant (cairn.airboss).
"""

from __future__ import annotations

import os
import posixpath
import stat

from cairn.config import config, config_path
from cairn.errors import CairnError

KEY = "tenant_iso_dirs"


def tenant_iso(path: str) -> str:
    """The real path of the ISO `path` names, if a tenant may use it."""
    dirs = _dirs()
    if not dirs:
        raise CairnError(
            f"no directory of ISO files is open to tenants: an administrator may list some"
            f' with {KEY} = ["/srv/iso"] in {config_path()}'
        )
    given = posixpath.normpath(path) if path.startswith("/") else ""
    if not given or not path.isprintable():
        raise CairnError(f"cdrom {path!r} is not an absolute path: give the ISO's full path")
    real = os.path.realpath(given)
    for directory in dirs:
        base = os.path.realpath(directory)
        if _under(given, directory) and _under(real, base):
            if not real.lower().endswith(".iso") or not _is_file(real):
                raise CairnError(f"cdrom {path} is not an ISO file (a regular file named *.iso)")
            return real
    raise CairnError(
        f"cdrom {path} is not under a directory open to tenants ({', '.join(dirs)}), or a"
        " symbolic link leads out of it: give an ISO file in one of them"
    )


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _dirs() -> tuple[str, ...]:
    given = config().get(KEY)
    if given is None:
        return ()
    if not isinstance(given, list) or not all(
        isinstance(d, str) and d.startswith("/") and posixpath.normpath(d) == d for d in given
    ):
        raise CairnError(
            f"{KEY} in {config_path()} must be a list of absolute, normalised paths, such as"
            ' ["/srv/iso"]'
        )
    return tuple(given)
