"""Where the database is: CAIRN_DB_URL, else the config file, else embedded SQLite.

Kept free of SQLAlchemy imports so that it can be used on any path.
Config file: $CAIRN_CONFIG, else /etc/cairn/cairn.toml for root, else
$XDG_CONFIG_HOME/cairn/cairn.toml; key `db_url`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from cairn.errors import CairnError


def _is_root() -> bool:
    return os.geteuid() == 0


def config_path() -> Path:
    if os.environ.get("CAIRN_CONFIG"):
        return Path(os.environ["CAIRN_CONFIG"])
    if _is_root():
        return Path("/etc/cairn/cairn.toml")
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cairn" / "cairn.toml"


def data_dir() -> Path:
    if _is_root():
        return Path("/var/lib/cairn")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cairn"


def config() -> dict[str, object]:
    path = config_path()
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CairnError(f"cannot read the config file {path}: {exc}") from None


def database_url() -> str:
    url = os.environ.get("CAIRN_DB_URL") or config().get("db_url")
    if url:
        return str(url)
    return f"sqlite:///{data_dir() / 'cairn.db'}"


def unreachable(url: str, reason: str) -> CairnError:
    return CairnError(
        f"cannot reach the database {redacted(url)}: {reason}"
        " (set CAIRN_DB_URL or db_url in the config file)"
    )


def redacted(url: str) -> str:
    """The URL with any password hidden, for error messages."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, at, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***{at}{host}" if ":" in creds else url
