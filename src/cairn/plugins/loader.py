"""Finding, checking and loading plugin files, and calling them.

A plugin file (and its directory) must be owned by root or by the user running
cairn and not writable by group or others, as sshd and sudo demand of what
they run: otherwise anyone who can write it runs code as you. So must the
directories holding a link to it. What runs is the source that was checked,
read through one descriptor and compiled here: never an import, which could
take bytecode from a __pycache__ and write some there. A plugin that fails to
load or raises is reported with its file name, never ignored.
"""

from __future__ import annotations

import os
import stat
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cairn.errors import CairnError

SYSTEM_DIR = Path("/etc/cairn/plugins")


class PluginError(CairnError):
    pass


@dataclass(frozen=True)
class Plugin:
    path: Path
    run: Callable[..., Any]

    def __call__(self, **kwargs: Any) -> Any:
        try:
            return self.run(**kwargs)
        except CairnError as exc:
            raise PluginError(f"plugin {self.path} refused: {exc}") from exc
        except Exception as exc:
            raise PluginError(f"plugin {self.path} failed: {type(exc).__name__}: {exc}") from exc


def plugin_dirs() -> list[Path]:
    path = os.environ.get("CAIRN_PLUGIN_PATH", "")
    return [Path(p) for p in path.split(":") if p] + [SYSTEM_DIR]


def find(words: tuple[str, ...], hook: str) -> list[Plugin]:
    """Every `plugin_<hook>.py` under `<dir>/<words>/`, in plugin-dir order."""
    found = []
    for directory in plugin_dirs():
        path = directory.joinpath(*words, f"plugin_{hook}.py")
        if path.is_file():
            found.append(load(path))
    return found


def check_trust(path: Path) -> os.stat_result:
    """The file, and every directory up to /, as sshd's StrictModes wants them;
    returns the status of the file checked (what `load` must then read).

    Both ways to the file are checked: the directories that hold the name as
    given (so a link cannot sit where others may swap it, and is not someone
    else's) and those of the real file the name leads to (so a link cannot point
    into a directory others may write). Above the plugin's own directory, a
    world-writable directory with the sticky bit (/tmp) is allowed: others cannot
    replace what is not theirs in it.
    """
    given = Path(os.path.abspath(path))
    _check_chain(path, given, follow=False)
    real = given.resolve()
    return _check_chain(path, real, follow=True)


def _check_chain(plugin: Path, file: Path, *, follow: bool) -> os.stat_result:
    me = os.geteuid()
    first: os.stat_result | None = None
    for target in (file, *file.parents):
        st = target.stat() if follow else target.lstat()
        first = first or st
        if st.st_uid not in (0, me):
            raise PluginError(
                f"plugin {plugin} is refused: {target} is owned by uid {st.st_uid}, not by root"
                " or you; chown it"
            )
        if stat.S_ISLNK(st.st_mode):  # a link's own mode means nothing; where it leads is checked
            continue
        sticky = target not in (file, file.parent) and st.st_mode & stat.S_ISVTX
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
            raise PluginError(
                f"plugin {plugin} is refused: {target} is writable by group or others;"
                f" chmod go-w {target}"
            )
    assert first is not None
    return first


def _read_checked(path: Path, checked: os.stat_result) -> bytes:
    """The bytes of the very file that was checked, read through one descriptor."""
    try:
        fd = os.open(path.resolve(), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise PluginError(f"plugin {path} cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if (st.st_dev, st.st_ino) != (checked.st_dev, checked.st_ino) or not stat.S_ISREG(
            st.st_mode
        ):
            raise PluginError(f"plugin {path} is refused: it changed while it was checked")
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or st.st_uid not in (0, os.geteuid()):
            raise PluginError(f"plugin {path} is refused: it changed while it was checked")
        return fh.read()


def load(path: Path) -> Plugin:
    """Check `path`, then run exactly the source that was checked.

    The module is compiled from the bytes read, never imported: an import may
    take bytecode from a __pycache__ that others can write, and would write
    some there. No bytecode is read or written for plugins.
    """
    checked = check_trust(path)
    source = _read_checked(path, checked)
    name = "cairn_plugin_" + "_".join(path.with_suffix("").parts[-4:]).replace("-", "_")
    module = types.ModuleType(name)
    module.__file__ = str(path)
    try:
        code = compile(source, str(path), "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except Exception as exc:
        raise PluginError(f"plugin {path} failed to load: {type(exc).__name__}: {exc}") from exc
    run = getattr(module, "run", None)
    if not callable(run):
        raise PluginError(f"plugin {path} defines no run(**kwargs) function")
    return Plugin(path, run)
