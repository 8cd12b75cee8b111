"""The service process's own limits, raised where its defaults end a big cluster.

Only the service's: the thin client never holds more than a few files open.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger("cairn.service")


def more_open_files() -> int:
    """Raise the soft limit on open files to the hard one; the soft limit now.

    The service holds two libvirt connections per container (the commands' and
    the watcher's), each a socket and a wake-up pipe: four files a container
    (measured, docs/scale.md), besides its clients and database files. The soft
    limit of 1024 that systemd and most shells give would end at about 250
    containers, with "Too many open files" from whichever connection comes
    next. The hard limit (systemd's: 524288) is the administrator's to set.
    The service's one select() (its accept loop) waits on its listener and a
    pipe, both made at start, so their numbers stay below select's 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard or soft == resource.RLIM_INFINITY:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:
        log.warning("cannot raise the limit on open files from %d to %d: %s", soft, hard, exc)
        return soft
    return hard
