"""cairn.plugins.loader without a database: plugin dirs from CAIRN_PLUGIN_PATH, exact
file names, the trust check and how a plugin's failures are reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cairn.errors import CairnError
from cairn.plugins import loader
from cairn.plugins.loader import PluginError

START = ("start", "host", "vm")


def hook_dir(root: Path, words: tuple[str, ...] = START) -> Path:
    path = root.joinpath(*words)
    path.mkdir(parents=True, exist_ok=True)
    for directory in [path, *path.parents]:
        if directory == root.parent:
            break
        directory.chmod(0o755)
    return path


def write(path: Path, body: str, mode: int = 0o644) -> Path:
    path.write_text(body)
    path.chmod(mode)
    return path


def test_plugin_dirs_come_from_the_path_then_the_system_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", "/a::/b/c:")
    assert loader.plugin_dirs() == [Path("/a"), Path("/b/c"), loader.SYSTEM_DIR]
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", "")
    assert loader.plugin_dirs() == [Path("/etc/cairn/plugins")]
    monkeypatch.delenv("CAIRN_PLUGIN_PATH")
    assert loader.plugin_dirs() == [Path("/etc/cairn/plugins")]


def test_find_takes_exact_names_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = hook_dir(tmp_path / "p")
    body = "def run(**kwargs):\n    return 'ran'\n"
    for name in (
        "plugin_allocate_extra.py",
        "xplugin_allocate.py",
        "plugin_allocate.py.bak",
        "plugin_allocate",
        "plugin_preallocate.py",
    ):
        write(start / name, "raise SystemExit('must not be loaded')\n", 0o666)
    write(start / "plugin_allocate.py", body)
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(tmp_path / "p"))
    (found,) = loader.find(START, "allocate")
    assert found.path == start / "plugin_allocate.py"
    assert found(vm="x") == "ran"
    assert loader.find(START, "preboot") == []
    assert loader.find(("stop", "host", "vm"), "allocate") == []


def test_find_goes_through_the_dirs_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = hook_dir(tmp_path / "one"), hook_dir(tmp_path / "two")
    write(second / "plugin_preboot.py", "def run(**kwargs):\n    return 2\n")
    write(first / "plugin_preboot.py", "def run(**kwargs):\n    return 1\n")
    monkeypatch.setenv(
        "CAIRN_PLUGIN_PATH", f"{tmp_path / 'two'}:{tmp_path / 'missing'}:{tmp_path / 'one'}"
    )
    assert [p() for p in loader.find(START, "preboot")] == [2, 1]


def test_two_plugins_of_one_name_do_not_share_a_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = hook_dir(tmp_path / "one"), hook_dir(tmp_path / "two")
    write(
        first / "plugin_preboot.py",
        "STATE = []\ndef run(**kw):\n    STATE.append(1)\n    return STATE\n",
    )
    write(
        second / "plugin_preboot.py",
        "STATE = []\ndef run(**kw):\n    STATE.append(2)\n    return STATE\n",
    )
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", f"{tmp_path / 'one'}:{tmp_path / 'two'}")
    one, two = loader.find(START, "preboot")
    assert one() == [1] and two() == [2]


@pytest.mark.parametrize("mode", [0o666, 0o646, 0o664, 0o622])
def test_a_writable_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = write(hook_dir(tmp_path) / "plugin_allocate.py", "def run(**kw):\n    pass\n", mode)
    with pytest.raises(PluginError) as caught:
        loader.load(path)
    message = str(caught.value)
    assert message == (
        f"plugin {path} is refused: {path} is writable by group or others; chmod go-w {path}"
    )


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_writable_directory_is_refused(tmp_path: Path, mode: int) -> None:
    directory = hook_dir(tmp_path)
    path = write(directory / "plugin_allocate.py", "def run(**kw):\n    pass\n")
    directory.chmod(mode)
    with pytest.raises(PluginError, match="is writable by group or others") as caught:
        loader.load(path)
    assert f"{directory} is writable" in str(caught.value)


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o755, 0o400])
def test_private_modes_are_fine(tmp_path: Path, mode: int) -> None:
    path = write(hook_dir(tmp_path) / "plugin_allocate.py", "def run(**kw):\n    return 7\n", mode)
    assert loader.load(path)() == 7


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_file_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    path = write(hook_dir(tmp_path) / "plugin_allocate.py", "def run(**kw):\n    pass\n")
    os.chown(path, 4242, -1)
    with pytest.raises(PluginError, match="owned by uid 4242, not by root or you; chown it"):
        loader.load(path)
    os.chown(path, 0, -1)
    os.chown(path.parent, 4242, -1)
    with pytest.raises(PluginError, match=f"{path.parent} is owned by uid 4242"):
        loader.load(path)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("x = 1\n", "defines no run(**kwargs) function"),
        ("run = 42\n", "defines no run(**kwargs) function"),
        ("def run(\n", "failed to load: SyntaxError"),
        ("import no_such_module_here\n", "failed to load: ModuleNotFoundError"),
        ("raise ValueError('bad config')\n", "failed to load: ValueError: bad config"),
    ],
)
def test_load_failures_name_the_file(tmp_path: Path, body: str, words: str) -> None:
    path = write(hook_dir(tmp_path) / "plugin_allocate.py", body)
    with pytest.raises(PluginError) as caught:
        loader.load(path)
    assert str(caught.value).startswith(f"plugin {path} ")
    assert words in str(caught.value)
    assert isinstance(caught.value, CairnError)


def test_run_failures_name_the_file(tmp_path: Path) -> None:
    path = write(
        hook_dir(tmp_path) / "plugin_allocate.py",
        "from cairn.errors import CairnError\n"
        "def run(*, vm):\n"
        "    if vm == 'a':\n"
        "        raise CairnError('no room')\n"
        "    if vm == 'b':\n"
        "        raise KeyError('slot')\n"
        "    return vm\n",
    )
    plugin = loader.load(path)
    assert plugin(vm="c") == "c"
    with pytest.raises(PluginError, match=f"^plugin {path} refused: no room$"):
        plugin(vm="a")
    with pytest.raises(PluginError, match=f"^plugin {path} failed: KeyError: 'slot'$"):
        plugin(vm="b")
    # A run() that does not take the hook's keyword arguments is the plugin's fault too.
    with pytest.raises(PluginError, match=f"^plugin {path} failed: TypeError"):
        plugin(vm="c", extra=1)


# -- links, bytecode and swaps (issue 12: plugin trust) --------------------------


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o775])
def test_a_link_in_a_directory_others_may_write_is_refused(tmp_path: Path, mode: int) -> None:
    """Whoever may write the link's directory may swap the link for another."""
    trusted = write(
        hook_dir(tmp_path / "trusted") / "plugin_allocate.py", "def run(**kw):\n    return 1\n"
    )
    open_dir = hook_dir(tmp_path / "open")
    link = open_dir / "plugin_allocate.py"
    link.symlink_to(trusted)
    open_dir.chmod(mode)
    with pytest.raises(PluginError, match=f"{open_dir} is writable by group or others"):
        loader.load(link)


def test_a_link_in_a_trusted_directory_to_a_trusted_file_is_fine(tmp_path: Path) -> None:
    trusted = write(
        hook_dir(tmp_path / "trusted") / "plugin_allocate.py", "def run(**kw):\n    return 1\n"
    )
    link = hook_dir(tmp_path / "mine") / "plugin_allocate.py"
    link.symlink_to(trusted)
    assert loader.load(link)() == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a link to another user")
def test_a_link_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    trusted = write(
        hook_dir(tmp_path / "trusted") / "plugin_allocate.py", "def run(**kw):\n    return 1\n"
    )
    link = hook_dir(tmp_path / "mine") / "plugin_allocate.py"
    link.symlink_to(trusted)
    os.lchown(link, 4242, -1)
    with pytest.raises(PluginError, match=f"{link} is owned by uid 4242"):
        loader.load(link)


def test_a_forged_pyc_never_runs_and_none_is_written(tmp_path: Path) -> None:
    import importlib.util
    from importlib._bootstrap_external import _code_to_timestamp_pyc  # type: ignore[attr-defined]

    directory = hook_dir(tmp_path)
    path = write(directory / "plugin_allocate.py", "def run(**kw):\n    return 'checked'\n")
    st = path.stat()
    forged = compile("def run(**kw):\n    return 'forged'\n", str(path), "exec")
    cache = Path(importlib.util.cache_from_source(str(path)))
    cache.parent.mkdir(mode=0o777)
    cache.parent.chmod(0o777)  # others may write __pycache__: a forged file there
    cache.write_bytes(bytes(_code_to_timestamp_pyc(forged, int(st.st_mtime), st.st_size)))
    assert loader.load(path)() == "checked"
    cache.unlink()
    cache.parent.rmdir()
    assert loader.load(path)() == "checked"
    assert not cache.parent.exists()  # no bytecode written for a plugin


def test_a_file_swapped_after_its_check_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What runs is what was checked: a swap between the check and the read is seen."""
    directory = hook_dir(tmp_path)
    path = write(directory / "plugin_allocate.py", "def run(**kw):\n    return 'checked'\n")
    other = write(tmp_path / "other.py", "def run(**kw):\n    return 'swapped'\n")
    check = loader.check_trust

    def check_then_swap(p: Path) -> os.stat_result:
        checked = check(p)
        os.replace(other, path)  # as another process might, at the worst moment
        return checked

    monkeypatch.setattr(loader, "check_trust", check_then_swap)
    with pytest.raises(PluginError, match="changed while it was checked"):
        loader.load(path)
