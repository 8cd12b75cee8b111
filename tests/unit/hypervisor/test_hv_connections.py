import threading
import time

import libvirt
import pytest

from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.errors import ContainerUnreachable
from cairn.hypervisor.uri import uri_for
from testkit import one_error_line

TEST_URI = "test:///default"
# A test-driver URI naming a missing host description file: fails in-process,
# instantly, with no network and no daemon.
MISSING = "test:///nonexistent/path.xml"


def test_same_uri_gives_the_same_connection():
    with Connections() as conns:
        first = conns.get(TEST_URI)
        assert conns.get(TEST_URI) is first
        assert first.isAlive()


def test_connections_are_closed_on_exit():
    with Connections() as conns:
        conn = conns.get(TEST_URI)
    with pytest.raises(libvirt.libvirtError):
        conn.isAlive()  # libvirt-python drops the handle on close
    with pytest.raises(RuntimeError):
        conns.get(TEST_URI)


def test_connections_are_closed_when_the_block_raises():
    with pytest.raises(KeyError), Connections() as conns:
        conn = conns.get(TEST_URI)
        raise KeyError
    with pytest.raises(libvirt.libvirtError):
        conn.isAlive()


def test_unreachable_uri_names_it_and_is_not_cached():
    with Connections() as conns:
        start = time.monotonic()
        with pytest.raises(ContainerUnreachable) as info:
            conns.get(MISSING)
        assert time.monotonic() - start < 1
        assert str(info.value).startswith(f"cannot reach {MISSING}: ")
        assert info.value.code is not None
        with pytest.raises(ContainerUnreachable):
            conns.get(MISSING)  # retried, not remembered


def test_threads_share_one_connection_per_uri():
    got: list[libvirt.virConnect] = []
    with Connections() as conns:
        barrier = threading.Barrier(8)

        def worker() -> None:
            barrier.wait()
            got.append(conns.get(TEST_URI))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(got) == 8 and len({id(c) for c in got}) == 1


def test_uri_for_substitutes_host():
    assert uri_for("qemu+ssh://{host}/system", "compute-0-1") == "qemu+ssh://compute-0-1/system"
    assert uri_for("qemu+ssh://root@{host}/system?no_tty=1", "10.1.255.254") == (
        "qemu+ssh://root@10.1.255.254/system?no_tty=1"
    )
    assert uri_for("test:///default", "compute-0-1") == "test:///default"
    assert uri_for("test:///{{literal}}/{host}", "h") == "test:///{literal}/h"


@pytest.mark.parametrize(
    "host", ["a/b", "a?x", "a#b", "user@a", "a:22", "", "-a", "a..b", "a b", "a.", "é"]
)
def test_uri_for_rejects_hosts_that_change_the_uri(host):
    with pytest.raises(CairnError):
        uri_for("qemu+ssh://{host}/system", host)


@pytest.mark.parametrize(
    "template", ["qemu+ssh://{other}/system", "{host!r}", "{host:>9}", "{}", "{0}", "{host"]
)
def test_uri_for_rejects_other_fields(template):
    with pytest.raises(CairnError):
        uri_for(template, "compute-0-1")


@pytest.mark.parametrize("template", ["bogus", "{host}", "/system", "qemu:/system", "ssh+://h/s"])
def test_uri_for_rejects_what_is_not_a_libvirt_uri(template):
    with pytest.raises(CairnError, match="not a libvirt URI such as"):
        uri_for(template, "compute-0-1")


def test_a_template_that_is_not_a_uri_is_refused_when_set(sqlite_cli):
    before = sqlite_cli.dump()
    r = sqlite_cli("set", "attr", "kvm_connection", "bogus")
    assert r.code == 1
    line = one_error_line(r.err)
    assert "kvm_connection" in line and "qemu+ssh://{host}/system" in line
    assert sqlite_cli.dump() == before
