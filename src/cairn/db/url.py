"""Where the database is: CAIRN_DB_URL, else the config file, else embedded SQLite.

Kept free of SQLAlchemy imports so that it can be used on any path; the
`cairn` client imports it, so `re`, `tomllib` and `pathlib` are imported
only when needed.
Config file: $CAIRN_CONFIG, else /etc/cairn/cairn.toml for root, else
$XDG_CONFIG_HOME/cairn/cairn.toml; key `db_url`.
"""

from __future__ import annotations

import os

from cairn.errors import CairnError

TYPE_CHECKING = False  # not typing's: the `cairn` client imports this module
if TYPE_CHECKING:
    from pathlib import Path


def _is_root() -> bool:
    return os.geteuid() == 0


def _config_file() -> str:
    if os.environ.get("CAIRN_CONFIG"):
        given = os.environ["CAIRN_CONFIG"]
        if not os.path.isfile(given):  # else another database would be used, silently
            what = "a directory" if os.path.isdir(given) else "missing"
            raise CairnError(
                f"CAIRN_CONFIG names {given}, which is {what}: name the config file"
                " (TOML with db_url = ...) or unset CAIRN_CONFIG"
            )
        return given
    if _is_root():
        return "/etc/cairn/cairn.toml"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(_home(), ".config")
    return os.path.join(base, "cairn", "cairn.toml")


def _data_dir() -> str:
    if _is_root():
        return "/var/lib/cairn"
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(_home(), ".local", "share")
    return os.path.join(base, "cairn")


def _home() -> str:
    return os.path.expanduser("~")


def config_path() -> Path:
    from pathlib import Path

    return Path(_config_file())


def data_dir() -> Path:
    from pathlib import Path

    return Path(_data_dir())


def config() -> dict[str, object]:
    if not os.path.isfile(_config_file()):
        return {}
    import tomllib

    path = config_path()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CairnError(f"cannot read the config file {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CairnError(
            f"cannot read the config file {path}: byte {exc.start} is not UTF-8 text"
        ) from None


def database_url() -> str:
    url = os.environ.get("CAIRN_DB_URL") or config().get("db_url")
    if url:
        return str(url)
    return default_url()


def default_url() -> str:
    """The embedded database cairn creates on first use when none is named."""
    return f"sqlite:///{os.path.join(_data_dir(), 'cairn.db')}"


def unreachable(url: str, reason: str) -> CairnError:
    return CairnError(
        f"cannot reach the database {redacted(url)}: {reason}"
        " (set CAIRN_DB_URL or db_url in the config file)"
    )


_CREDENTIALS = r"^([\w+]+://)([^:/@]*):([^@]*)@"
# Query options that carry a secret (libpq and PyMySQL spellings).
_SECRET_OPTIONS = frozenset({"password", "passwd", "pwd", "sslpassword"})


def redacted(url: str) -> str:
    """The URL with any password hidden, for error messages: the one in its
    credentials and any given as a query option (`?password=...`)."""
    # Credentials as SQLAlchemy reads them: a password runs to the last '@'
    # and may hold '?', '/' or '#'; the query starts after the host.
    import re

    creds = re.match(_CREDENTIALS, url)
    end = 0
    if creds:
        # A password holding '@' (not written %40): hide up to the last '@'
        # before the query, not only to the first.
        query_at = url.find("?", creds.end())
        end = url.rfind("@", 0, query_at if query_at >= 0 else len(url)) + 1
    head, rest = (f"{creds[1]}{creds[2]}:***@", url[end:]) if creds else ("", url)
    base, q, query = rest.partition("?")
    if q:
        options = (o.partition("=") for o in query.split("&"))
        query = "&".join(
            f"{k}{eq}***" if k.lower() in _SECRET_OPTIONS and eq else f"{k}{eq}{v}"
            for k, eq, v in options
        )
    return f"{head}{base}{q}{query}"
