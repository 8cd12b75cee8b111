"""Example plugin_fence: power a dead VM container off through its BMC with ipmitool.

cairn's watcher calls this when a container's libvirt has not answered for
kvm_ha_dead_after seconds and VMs marked kvm_ha were allocated there. It runs
`ipmitool chassis power off` against the container's BMC, then asks
`chassis power status` until the BMC says "Chassis Power is off", and only
then answers True: the container can no longer run those VMs, so the watcher
restarts them on other containers. Any other outcome answers False (or
raises), and nothing is restarted; the watcher tries again after another
kvm_ha_dead_after seconds.

The BMC of each container is named by three of its attributes (the site's,
set with `cairn set host attr`):

    fence_ipmi_host           the BMC's name or address (vm-container-0-1-ipmi)
    fence_ipmi_user           the BMC user
    fence_ipmi_password_file  a file on the frontend with the password on its
                              first line, owned by root (or cairn's user), mode 0600

Every value is checked against a strict pattern and handed to ipmitool as one
argument of its own, without a shell, so a value in the database cannot add
an option or a command; the password goes in the environment (`-E`), never on
a command line that `ps` shows.

Install: copy to <plugin dir>/watch/plugin_fence.py, owned by root, mode 0644
(see docs/plugins.md). Needs ipmitool on the frontend (apt-get install ipmitool).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time

from cairn.errors import CairnError

IPMITOOL = "ipmitool"
HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[?[0-9A-Fa-f:.]+\]?")
USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
OFF = "Chassis Power is off"
TIMEOUT = 30  # seconds one ipmitool call may take
POLLS, EVERY = 15, 2.0  # how often, and how many seconds apart, the status is asked


def run(*, container, uri, attrs, **_):
    host = _checked(attrs, "fence_ipmi_host", HOST, container)
    user = _checked(attrs, "fence_ipmi_user", USER, container)
    password = _password(attrs.get("fence_ipmi_password_file", ""), container)
    argv = [IPMITOOL, "-I", "lanplus", "-H", host, "-U", user, "-E", "-N", "5", "-R", "3"]
    path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    env = {"PATH": path, "IPMI_PASSWORD": password}
    _ipmitool([*argv, "chassis", "power", "off"], env, container)
    for _ in range(POLLS):
        if _ipmitool([*argv, "chassis", "power", "status"], env, container) == OFF:
            return True
        time.sleep(EVERY)
    return False


def _checked(attrs, name, pattern, container):
    value = attrs.get(name, "")
    if not pattern.fullmatch(value):
        raise CairnError(
            f"attribute {name} of {container} is {value[:60]!r}, not a plain name;"
            f" set it with 'cairn set host attr {container} {name} VALUE'"
        )
    return value


def _password(path, container):
    if not path.startswith("/"):
        raise CairnError(
            f"attribute fence_ipmi_password_file of {container} must name a file"
            " (an absolute path, mode 0600)"
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise CairnError(f"cannot read the BMC password of {container}: {exc.strerror}") from None
    with os.fdopen(fd) as fh:
        st = os.fstat(fh.fileno())
        if st.st_uid not in (0, os.geteuid()) or st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CairnError(f"{path} must be owned by root or you, mode 0600: chmod 600 {path}")
        return fh.readline().rstrip("\n")


def _ipmitool(argv, env, container):
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=TIMEOUT,
            stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CairnError(f"ipmitool for {container}: {exc}") from None
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines() or [done.returncode]
        raise CairnError(f"ipmitool {' '.join(argv[-3:])} for {container}: {said[-1]}")
    return done.stdout.strip()
