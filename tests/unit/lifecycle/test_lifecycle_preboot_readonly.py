"""plugin_preboot runs with the database read-only, enforced: a write fails
the start with a clear error and nothing is stored. On SQLite and PostgreSQL
the database itself refuses; on MariaDB (which cannot make a transaction
read-only once begun) cairn refuses every statement that is not a read. Each
test runs on all three."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_url(every_db_url: str) -> str:
    """conftest's `db_url`, with MariaDB too."""
    return every_db_url


ORM_FLUSH = """
def run(*, session, vm, xml):
    vm.host.rack = 99
    session.flush()
"""

RAW_SQL = """
from sqlalchemy import text

def run(*, session, vm, xml):
    session.execute(text("UPDATE hosts SET rack=99"))
"""

# MariaDB commits the open transaction before any DDL, and runs the text of
# /*! ... */ comments: neither may get through.
DDL = """
from sqlalchemy import text

def run(*, session, vm, xml):
    session.execute(text("CREATE TABLE cairn_sneaky (x INT)"))
"""

HIDDEN = """
from sqlalchemy import text

def run(*, session, vm, xml):
    session.execute(text("/*! UPDATE hosts SET rack=99 */"))
"""

ORM_NO_FLUSH = """
def run(*, session, vm, xml):
    vm.host.rack = 99
    vm.memory_mb = 4096
"""

SWALLOWED = """
from sqlalchemy import text

def run(*, session, vm, xml):
    try:
        session.execute(text("UPDATE hosts SET rack=99"))
    except Exception:
        pass
"""

ATTR_PUT = """
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, put

def run(*, session, vm, xml):
    put(session, Owner(Scope.HOST, vm.host.id, vm.host.name), "sneaky", "1", replace=True)
"""

COMMIT_THEN_WRITE = """
from sqlalchemy import text

def run(*, session, vm, xml):
    session.commit()
    session.execute(text("UPDATE hosts SET rack=99"))
    session.commit()
"""

# Records in the database when a failed start releases the VM: the database
# must be writable again once preboot is over.
RECORDING_DISALLOCATE = """
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, put

def run(*, session, vm, reason):
    put(session, Owner(Scope.HOST, vm.host.id, vm.host.name), "released", reason, replace=True)
"""


def recording_allocate(value: str) -> str:
    """A plugin_allocate that records `value` in the host attribute `released`."""
    return RECORDING_DISALLOCATE.replace("vm, reason", "vm").replace(
        '"released", reason', f'"released", {value!r}'
    )


def racks(lab, *hosts):
    return [lab.rack(h) for h in hosts]


@pytest.mark.parametrize(
    "source",
    [ORM_FLUSH, RAW_SQL, ATTR_PUT, DDL],
    ids=["orm-flush", "raw-sql", "attr-store", "ddl"],
)
def test_a_write_fails_the_start_and_stores_nothing(lab, plugins, source):
    vm = lab.add_vm("vm-container-0-1")
    plugins.write("preboot", source)
    plugins.write("disallocate", RECORDING_DISALLOCATE)

    done = lab.start(vm)

    assert done.code == 1
    row = done.by_host()[vm]
    assert row["result"] == "failed"
    assert row["detail"].startswith("preboot: ")
    assert str(plugins.path("preboot")) in row["detail"]
    assert "Traceback" not in done.err
    assert lab.state(vm) == "undefined"
    assert racks(lab, vm, "vm-container-0-1") == [0, 0]
    assert lab.host_attr(vm, "sneaky") is None
    assert "cairn_sneaky" not in tables(lab.cli.url)
    # What ran after preboot could write: the release was recorded.
    assert lab.host_attr(vm, "released") == "start-failed"


def test_an_executable_comment_cannot_write(lab, plugins):
    """`/*! ... */` is a comment to SQLite and PostgreSQL, a statement to MariaDB."""
    vm = lab.add_vm("vm-container-0-1")
    plugins.write("preboot", HIDDEN)
    done = lab.start(vm)
    mariadb = lab.cli.url.startswith("mysql")
    assert done.code == (1 if mariadb else 0), done.err
    if mariadb:
        assert "tried to change the database" in done.by_host()[vm]["detail"]
    assert racks(lab, vm, "vm-container-0-1") == [0, 0]


def tables(url: str) -> set[str]:
    from sqlalchemy import create_engine, inspect

    from cairn.db.engine import normalise

    engine = create_engine(normalise(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_an_orm_write_gets_a_clear_error(lab, plugins):
    vm = lab.add_vm("vm-container-0-0")
    plugins.write("preboot", ORM_FLUSH)
    done = lab.start(vm)
    detail = done.by_host()[vm]["detail"]
    assert "tried to change the database, which is read-only during preboot" in detail
    assert "make changes in plugin_allocate" in detail


@pytest.mark.parametrize("source", [RAW_SQL, ATTR_PUT, DDL], ids=["raw-sql", "attr-store", "ddl"])
def test_a_sql_write_gets_the_same_clear_error(lab, plugins, source):
    vm = lab.add_vm("vm-container-0-0")
    plugins.write("preboot", source)
    done = lab.start(vm)
    detail = done.by_host()[vm]["detail"]
    assert "read-only during preboot" in detail
    assert "\n" not in detail


def test_unflushed_changes_are_not_stored(lab, plugins):
    vm = lab.add_vm("vm-container-0-0")
    plugins.write("preboot", ORM_NO_FLUSH)
    lab.start(vm)
    assert lab.rack(vm) == 0
    assert lab.listed(vm)[vm]["mem"] == 64
    assert lab.conn.lookupByName(vm).info()[1] == 64 * 1024


def test_a_swallowed_refusal_stores_nothing(lab, plugins):
    vm = lab.add_vm("vm-container-0-0")
    plugins.write("preboot", SWALLOWED)
    plugins.write("allocate", recording_allocate("allocated"))
    done = lab.start(vm)
    assert done.code == 0, done.err  # the plugin chose to go on
    assert lab.state(vm) == "running"
    assert racks(lab, vm, "vm-container-0-0", "vm-container-0-2") == [0, 0, 0]
    assert lab.host_attr(vm, "released") == "allocated"  # allocate's write is kept


def test_reads_work_and_see_what_allocate_wrote(lab, plugins):
    vm = lab.add_vm("vm-container-0-0")
    plugins.write("allocate", recording_allocate("by-allocate"))
    plugins.write(
        "preboot",
        """
        from cairn.attrs.scopes import Scope
        from cairn.attrs.store import Owner, get

        def run(*, session, vm, xml):
            seen = get(session, Owner(Scope.HOST, vm.host.id, vm.host.name), "released")
            with open(LOG, "a") as f:
                f.write("preboot saw " + str(seen) + "\\n")
        """,
    )
    assert lab.start(vm).code == 0
    assert plugins.calls() == ["preboot saw by-allocate"]


def test_many_vms_each_get_a_writable_allocate(lab, plugins):
    """Read-only preboot of one VM must not leave the next VM's allocate read-only."""
    vms = [lab.add_vm(c) for c in ("vm-container-0-0", "vm-container-0-1", "vm-container-0-2")]
    plugins.write("allocate", recording_allocate("mine"))
    plugins.write("preboot", "def run(*, session, vm, xml):\n    return None\n")
    done = lab.start(*vms)
    assert done.code == 0, done.err
    assert [lab.host_attr(v, "released") for v in vms] == ["mine"] * 3


def test_a_refused_write_of_one_vm_does_not_fail_the_others(lab, plugins):
    a = lab.add_vm("vm-container-0-0")
    b = lab.add_vm("vm-container-0-1")
    plugins.write(
        "preboot",
        RAW_SQL.replace(
            "def run(*, session, vm, xml):\n",
            f"def run(*, session, vm, xml):\n    if vm.host.name != {b!r}:\n        return None\n",
        ),
    )
    plugins.write("allocate", recording_allocate("mine"))
    done = lab.start(a, b)
    assert done.code == 1
    assert [r["result"] for r in done.rows] == ["started", "failed"]
    assert (lab.state(a), lab.state(b)) == ("running", "undefined")
    assert lab.host_attr(a, "released") == "mine"
    assert racks(lab, a, b) == [0, 0]


def test_commit_inside_preboot_does_not_escape_read_only(lab, plugins):
    vm = lab.add_vm("vm-container-0-0")
    plugins.write("preboot", COMMIT_THEN_WRITE)
    try:
        done = lab.start(vm)
    except Exception as exc:
        done = exc
    assert racks(lab, vm, "vm-container-0-0") == [0, 0]
    assert not isinstance(done, Exception), f"start crashed: {done!r}"
    assert done.code == 1
    assert done.by_host()[vm]["result"] == "failed"
