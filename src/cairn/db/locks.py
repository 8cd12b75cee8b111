"""Locks that make concurrent commands queue instead of failing on a unique constraint.

On PostgreSQL and MariaDB two commands that choose a free name, slice or MAC
at once would both see it free and one would fail at commit. `allocation`
takes one row lock (the single row of alembic_version, which every database
of this cairn has) for the rest of the transaction, so such choices are made
one command after another. SQLite needs none: a command that writes holds the
database's write lock from its first statement (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def allocation(session: Session) -> None:
    """Hold the allocation lock until the transaction ends (waits for it)."""
    if session.get_bind().dialect.name == "sqlite":
        return
    session.execute(text("SELECT version_num FROM alembic_version FOR UPDATE"))
