"""cairn.db.readonly.is_read_statement: the statement check that keeps
plugin_preboot read-only on MariaDB/MySQL, which cannot switch an open
transaction to read-only. Conservative: anything unusual is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn.db.readonly import is_read_statement

READS = [
    "SELECT 1",
    "select name from hosts where id = %s",
    "  (SELECT 1)",
    "/* why */ SELECT 1",
    "-- why\nSELECT 1",
    "# why\nSELECT 1",
    "SHOW TABLES",
    "DESCRIBE hosts",
    "SELECT id FROM vms WHERE id = %s FOR UPDATE",
    "SAVEPOINT sa_1",
    "ROLLBACK TO SAVEPOINT sa_1",
    "RELEASE SAVEPOINT sa_1",
    "SELECT 1;",
]
WRITES = [
    "UPDATE hosts SET rack = 9",
    "DELETE FROM hosts",
    "INSERT INTO global_attrs (name, value) VALUES ('x', 'y')",
    "REPLACE INTO global_attrs VALUES (1, 'x', 'y')",
    "CREATE TABLE x (y INT)",
    "DROP TABLE hosts",
    "ALTER TABLE hosts ADD z INT",
    "TRUNCATE hosts",
    "COMMIT",
    "ROLLBACK",
    "BEGIN",
    "SET @x = 1",
    "CALL p()",
    "DO SLEEP(1)",
    "LOCK TABLES hosts WRITE",
    "WITH x AS (SELECT 1) DELETE FROM hosts",  # MySQL 8 allows it
    "ANALYZE UPDATE hosts SET rack = 1",  # MariaDB runs the UPDATE
    "EXPLAIN UPDATE hosts SET rack = 1",
    "/*! UPDATE hosts SET rack = 9 */",  # MariaDB runs executable comments
    "/*M!100000 DELETE FROM hosts */",
    "/*!*/ SELECT 1",
    "/*m!100000 UPDATE hosts SET rack = 9 */ SELECT 1",
    "/**/UPDATE hosts SET rack = 9",
    "SELECT 1; DELETE FROM hosts",
    "SELECT * FROM hosts INTO OUTFILE '/tmp/x'",
    "SELECT * FROM hosts INTO DUMPFILE '/tmp/x'",
    "SELECT 'x' INTO/**/OUTFILE '/tmp/f'",
    "SELECT 'x' INTO -- c\nOUTFILE '/tmp/f'",
    "SELECT 'x' INTO#c\nOUTFILE '/tmp/f'",
    "SELECT SETVAL(s, 1000)",
    "SELECT nextval(s)",
    "SELECT NEXT VALUE FOR s",
    "SELECT lastval(s)",
    "",
    "   ",
]


@pytest.mark.parametrize("sql", READS)
def test_reads_pass(sql: str) -> None:
    assert is_read_statement(sql)


@pytest.mark.parametrize("sql", WRITES)
def test_everything_else_is_refused(sql: str) -> None:
    assert not is_read_statement(sql)


_junk = st.lists(
    st.sampled_from([" ", "\n", "\t", "(", "/* c */", "-- c\n", "# c\n", "/**/"]), max_size=6
).map("".join)


@given(
    lead=_junk,
    write=st.sampled_from([w for w in WRITES if w.strip()]),
    case=st.sampled_from([str.lower, str.upper, str]),
)
def test_no_leading_comment_or_space_makes_a_write_a_read(lead: str, write: str, case) -> None:
    assert not is_read_statement(lead + case(write))


@given(lead=_junk, read=st.sampled_from(READS[:9]))
def test_leading_comments_and_space_do_not_hide_a_read(lead: str, read: str) -> None:
    assert is_read_statement(lead + read)
