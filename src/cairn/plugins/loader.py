"""Finding, checking and loading plugin files, and calling them.

A plugin file (and its directory) must be owned by root or by the user running
cairn and not writable by group or others, as sshd and sudo demand of what
they run: otherwise anyone who can write it runs code as you. A plugin that
fails to load or raises is reported with its file name, never ignored.
"""

from __future__ import annotations

import importlib.util
import os
import stat
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


def check_trust(path: Path) -> None:
    """The file, and every directory up to /, as sshd's StrictModes wants them.

    Checked on the real path (a symlink is followed), so a link cannot point into
    a directory others may write. Above the plugin's own directory, a
    world-writable directory with the sticky bit (/tmp) is allowed: others cannot
    replace what is not theirs in it.
    """
    me = os.geteuid()
    real = path.resolve()
    for target in (real, *real.parents):
        st = target.stat()
        sticky = target not in (real, real.parent) and st.st_mode & stat.S_ISVTX
        if st.st_uid not in (0, me):
            raise PluginError(
                f"plugin {path} is refused: {target} is owned by uid {st.st_uid}, not by root"
                " or you; chown it"
            )
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
            raise PluginError(
                f"plugin {path} is refused: {target} is writable by group or others;"
                f" chmod go-w {target}"
            )


def load(path: Path) -> Plugin:
    check_trust(path)
    name = "cairn_plugin_" + "_".join(path.with_suffix("").parts[-4:]).replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"plugin {path} cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginError(f"plugin {path} failed to load: {type(exc).__name__}: {exc}") from exc
    run = getattr(module, "run", None)
    if not callable(run):
        raise PluginError(f"plugin {path} defines no run(**kwargs) function")
    return Plugin(path, run)
