"""A client that connects and says nothing holds no thread, and no stop, for ever."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from cairn.service.address import key_env
from cairn.service.server import Service
from testkit import Cli, wait_for


def test_a_silent_client_is_closed_and_does_not_hold_up_a_stop(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    sqlite_cli.close()  # this test runs its own service, with a short patience
    path = tmp_path / "s.sock"
    service = Service(str(path), key_env(), watch=False, freeze=False)
    service.first_words_s = 0.3
    thread = threading.Thread(target=service.serve, daemon=True)
    thread.start()
    wait_for(path.exists, "the service's socket")
    silent = []
    try:
        for _ in range(5):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(path))
            s.settimeout(20)
            silent.append(s)
        # Each is closed by the service (recv sees the end), not left hanging.
        assert [s.recv(1) for s in silent] == [b""] * 5
        one = silent[0]
        service.stop()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the service waited on a client that said nothing"
        assert one.recv(1) == b""
    finally:
        for s in silent:
            s.close()
        if thread.is_alive():
            service.stop()
            service.stop()  # the second stop does not wait for clients
            thread.join(timeout=20)


def test_the_socket_is_found_at_its_path_only_once_it_listens(
    sqlite_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that finds the path must be able to connect. Bound at its path,
    then listening, it was once found in between and refused (CI); so the
    service binds and listens under a name of its own, then renames it."""
    sqlite_cli.close()  # this test runs its own service
    path = tmp_path / "s.sock"
    there_as_it_listened: list[bool] = []

    class Watched(socket.socket):
        def listen(self, *args: Any) -> None:
            there_as_it_listened.append(path.exists())
            super().listen(*args)

    monkeypatch.setattr(socket, "socket", Watched)  # the service's: it is this module
    service = Service(str(path), key_env(), watch=False, freeze=False)
    thread = threading.Thread(target=service.serve, daemon=True)
    thread.start()
    try:
        wait_for(path.exists, "the service's socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(path))
    finally:
        service.stop()
        thread.join(30)
    assert there_as_it_listened == [False]
    assert [p.name for p in tmp_path.iterdir() if ".s.sock" in p.name] == []


def test_a_socket_that_cannot_be_put_in_place_leaves_nothing_behind(
    sqlite_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    sqlite_cli.close()
    path = tmp_path / "s.sock"

    def refused(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(os, "replace", refused)
    service = Service(str(path), key_env(), watch=False, freeze=False)
    with pytest.raises(PermissionError):
        service._bind()
    assert [p.name for p in tmp_path.iterdir() if "s.sock" in p.name] == []
    assert service._listener is None
