"""The schema revision this cairn expects: the newest migration in migrations/versions.

A module of its own, free of imports, so that the SQLite read path
(`cairn.db.rows`) can check a database without importing SQLAlchemy. A test
keeps it in step with the migrations.
"""

HEAD = "0005"
