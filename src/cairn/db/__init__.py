"""The cluster database: SQLAlchemy 2 models, engine and session, Alembic migrations.

Import `cairn.db.url` freely (no SQLAlchemy); everything else here pulls in
SQLAlchemy and is only imported by commands that touch the database.
"""
