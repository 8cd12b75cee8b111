"""Rows written straight into a test's database with SQL, past every command's
checks: what a database writer who is not cairn could store."""

from __future__ import annotations

from typing import Any


def write_sql(url: str, statement: str, **params: Any) -> None:
    """Run one SQL statement (bound :params) on the database at `url`, committed."""
    from sqlalchemy import text

    from cairn.db.engine import make_engine

    engine = make_engine(url, writes=True)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    finally:
        engine.dispose()
