"""Where the database is, and how its URL is shown in messages (db/url.py)."""

import os
import subprocess

import pytest

from cairn.db.url import redacted
from testkit import CAIRN

SECRET = "s3cr%26t%40x"  # percent-encoded, as a URL needs it


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@db:5432/c", "postgresql://u:***@db:5432/c"),
        ("postgresql://u@db/c?password=pw", "postgresql://u@db/c?password=***"),
        (
            "mysql://u@db/c?charset=utf8mb4&passwd=pw&PWD=pw",
            "mysql://u@db/c?charset=utf8mb4&passwd=***&PWD=***",
        ),
        (
            "postgresql://u:pw@db/c?sslpassword=pw&sslmode=require",
            "postgresql://u:***@db/c?sslpassword=***&sslmode=require",
        ),
        # An @ in a query option is not where the credentials end.
        ("postgresql://u@db/c?options=a@b", "postgresql://u@db/c?options=a@b"),
        ("postgresql://u:pw@db/c?options=a@b", "postgresql://u:***@db/c?options=a@b"),
        ("sqlite:////var/lib/cairn/cairn.db", "sqlite:////var/lib/cairn/cairn.db"),
        ("postgresql://u@db/c?password", "postgresql://u@db/c?password"),
        # A password may hold '?' and '/': it runs to the last '@' (SQLAlchemy).
        ("foo://u:s3cr?et@h/db", "foo://u:***@h/db"),
        # A password holding '@' (not written %40) is hidden whole.
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("mysql://u:a@b@c@h/db?options=x@y", "mysql://u:***@h/db?options=x@y"),
        ("postgresql://u:a/b?c@h:5/db?password=x", "postgresql://u:***@h:5/db?password=***"),
    ],
)
def test_redacted_hides_every_password(url, shown):
    assert redacted(url) == shown


@pytest.mark.parametrize("words", [["list", "host"], ["list", "host", "vm"], ["init"]])
@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://cairn@127.0.0.1:1/cairn?password={SECRET}",
        f"mysql://cairn@127.0.0.1:1/cairn?passwd={SECRET}&charset=utf8mb4",
    ],
)
def test_unreachable_database_error_hides_a_password_option(url, words):
    """Every way a command opens the database (direct read, ORM, init)."""
    env = {**os.environ, "CAIRN_DB_URL": url}
    done = subprocess.run([CAIRN, *words], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("error - cannot reach the database ")
    assert "=***" in done.stderr
    assert SECRET not in done.stderr and "s3cr" not in done.stderr
