"""The [airboss] table and Airboss addresses."""

from __future__ import annotations

import pytest

from cairn.airboss import settings
from cairn.errors import CairnError


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("frontend", ("frontend", 8677)),
        ("frontend:9000", ("frontend", 9000)),
        ("10.1.1.1", ("10.1.1.1", 8677)),
        ("[::1]", ("::1", 8677)),
        ("[fd00::1]:8678", ("fd00::1", 8678)),
    ],
)
def test_addresses(text: str, want: tuple[str, int]) -> None:
    assert settings.split_address(text) == want


@pytest.mark.parametrize("text", ["", "a:b", "a:0", "a:70000", "[::1", "[::1]x", ":8677", "a:1:2"])
def test_bad_addresses_are_one_line(text: str) -> None:
    with pytest.raises(CairnError, match="airboss="):
        settings.split_address(text)


def test_loopback() -> None:
    assert settings.is_loopback("127.0.0.1") and settings.is_loopback("::1")
    assert settings.is_loopback("localhost")
    assert not settings.is_loopback("10.1.1.1") and not settings.is_loopback("frontend")


def _config(tmp_path, monkeypatch, text: str) -> None:
    path = tmp_path / "cairn.toml"
    path.write_text(text)
    monkeypatch.setenv("CAIRN_CONFIG", str(path))


def test_off_by_default(tmp_path, monkeypatch) -> None:
    _config(tmp_path, monkeypatch, "")
    assert settings.server() is None
    with pytest.raises(CairnError, match="where is the Airboss"):
        settings.client_address(None)


def test_server_settings(tmp_path, monkeypatch) -> None:
    _config(
        tmp_path,
        monkeypatch,
        '[airboss]\nlisten = "0.0.0.0:9000"\ntls_names = ["fe.lab"]\n'
        'requests_per_minute = 10\naddress = "fe"\n',
    )
    got = settings.server()
    assert got is not None and (got.host, got.port, got.tls) == ("0.0.0.0", 9000, True)
    assert got.tls_names == ("fe.lab",) and got.bounds.requests_per_minute == 10
    assert settings.client_address(None) == ("fe", 8677)


@pytest.mark.parametrize(
    "text",
    [
        "[airboss]\nlisten = 5\n",
        '[airboss]\nlisten = "x:1"\ntls_names = "fe"\n',
        '[airboss]\nlisten = "x:1"\nconsoles_per_key = 0\n',
        "airboss = 1\n",
    ],
)
def test_bad_server_settings_are_one_line(tmp_path, monkeypatch, text: str) -> None:
    _config(tmp_path, monkeypatch, text)
    with pytest.raises(CairnError) as e:
        settings.server()
    assert "\n" not in str(e.value)


def test_tls_needs_a_ca(tmp_path, monkeypatch) -> None:
    _config(tmp_path, monkeypatch, "")
    with pytest.raises(CairnError, match="ca=PATH"):
        settings.client_ca(None)
    with pytest.raises(CairnError, match="no such file"):
        settings.client_ca(str(tmp_path / "none.pem"))
