"""Whether a database is there, asked without creating or changing it.

The cairn service asks this while it has no client, to end when its
database is gone (a SQLite file deleted, a PostgreSQL or MariaDB database
dropped) or was never there (a URL the command refused). A SQLite file's
identity (device and inode) tells a kept engine that the file at its path
was replaced under it. Nothing here opens a session or a kept engine.
"""

from __future__ import annotations

import os

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from cairn.db.engine import make_engine, normalise
from cairn.errors import CairnError

THERE, MISSING, UNREACHABLE = "there", "missing", "unreachable"

# Where a server lists its databases, reached without the one asked about
# (its drivers give no error code for "no such database" when connecting).
_CATALOGUE = {
    "postgresql": ("postgres", "SELECT 1 FROM pg_database WHERE datname = :name"),
    "mysql": ("", "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
    "mariadb": ("", "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
}


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] != "sqlite":
        return None
    path = rest[1:].partition("?")[0]  # sqlite:///relative, sqlite:////absolute
    return path if path and path != ":memory:" else None


def identity(path: str) -> tuple[int, int] | None:
    """The file at `path` as the kernel knows it (None: no file there)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def presence(url: str) -> str:
    """THERE, MISSING (no such file or database) or UNREACHABLE (the URL is
    refused, or its server does not answer)."""
    path = sqlite_path(url)
    if path is not None:
        return THERE if os.path.isfile(path) else MISSING
    if _answers(url):
        return THERE
    try:
        parsed = make_url(normalise(url))
        catalogue, query = _CATALOGUE[parsed.get_backend_name()]
    except (ArgumentError, KeyError, ValueError):
        return UNREACHABLE
    elsewhere = parsed.set(database=catalogue).render_as_string(hide_password=False)
    listed = _answers(elsewhere, query, parsed.database)
    # Listed but not reachable (refused, full): as good as unreachable.
    return MISSING if listed is False else UNREACHABLE


def _answers(url: str, query: str = "SELECT 1", name: str | None = None) -> bool | None:
    """Whether `query` on `url` gives a row (None: the server cannot be asked)."""
    try:
        engine = make_engine(url, writes=False)
    except CairnError:
        return None
    try:
        with engine.connect() as conn:
            return conn.execute(text(query), {"name": name}).first() is not None
    except DBAPIError:
        return None
    finally:
        engine.dispose()
