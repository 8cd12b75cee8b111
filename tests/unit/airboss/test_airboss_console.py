"""The console op on libvirt's test driver (which has no consoles: the Airboss
says so in the stream and closes; the real console is the testbed's, in
tests/system): the request is checked like any other, and a console's slot
is given back when it ends."""

from __future__ import annotations

import socket

import pytest

from cairn.airboss import envelope, keys


def _console(lab, tenant, target: str) -> tuple[str, bytes]:
    """(the reply's error, what the stream carried until it closed)."""
    wire = envelope.sign(keys.load_private(tenant.key), "console", target)
    with socket.create_connection(("127.0.0.1", lab.port), timeout=30) as s:
        s.sendall(wire)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    n = envelope.reply_length(got[:4])
    body = got[4 : 4 + n]
    try:
        envelope.read_reply(body)
        error = ""
    except envelope.CairnError as e:
        error = str(e)
    return error, got[4 + n :]


@pytest.mark.parametrize("airboss_config", ["consoles_per_key = 1\n"], indirect=True)
def test_a_console_is_attached_then_its_slot_given_back(lab) -> None:
    lab.cli.ok("start", "host", "vm", "vc-compute-0")
    for _ in range(3):  # one slot: each console must give it back
        error, stream = _console(lab, lab.owner, "vc-compute-0")
        assert error == ""
        assert stream.startswith(b"\r\n[") and b"console" in stream, stream
    assert [a["op"] for a in lab.audit()] == ["console"] * 3


def test_a_console_of_another_cluster_is_refused(lab) -> None:
    lab.cli.ok("start", "host", "vm", "wc-compute-0")
    error, stream = _console(lab, lab.owner, "wc-compute-0")
    assert error == "wc-compute-0 is a VM of another cluster, not of yours"
    assert stream == b""
    assert lab.audit()[-1]["result"] == "refused"


def test_the_tenants_console_command_streams_it_until_it_closes(lab) -> None:
    lab.cli.ok("start", "host", "vm", "vc-compute-1")
    where = (f"key={lab.owner.key}", f"airboss={lab.address}")
    shown = lab.cli.process("open", "host", "console", "vc-compute-1", *where)
    assert shown.code == 0, shown.err
    # the test driver has no consoles: the Airboss says so in the stream
    assert "[cannot open the console of vc-compute-1 on test:///default" in shown.out
    refused = lab.cli.process("open", "host", "console", "wc-compute-0", *where)
    assert refused.code == 1
    assert refused.err == "error - wc-compute-0 is a VM of another cluster, not of yours\n"


def test_the_console_of_a_vm_that_is_off_is_an_error_before_anything_attaches(lab) -> None:
    error, stream = _console(lab, lab.owner, "vc-compute-0")
    assert error == "vc-compute-0 is not defined: it has a console only while it runs (power it on)"
    assert stream == b""
    lab.cli.ok("start", "host", "vm", "vc-compute-0")
    lab.cli.ok("stop", "host", "vm", "vc-compute-0")
    error, _ = _console(lab, lab.owner, "vc-compute-0")
    assert error.startswith("vc-compute-0 is shutoff: it has a console only while it runs")


def test_a_key_has_at_most_consoles_per_key_open(lab) -> None:
    """libvirt's test driver has no consoles, so a console it opens closes at
    once: the two this key holds open are taken at the server's slot-keeping
    layer, as the Airboss takes one for each console it attaches; the third
    is a real signed request through the port."""
    fingerprint, server = lab.owner.fingerprint, lab.server
    assert server.bounds.consoles_per_key == 2  # the default
    lab.cli.ok("start", "host", "vm", "vc-compute-0")
    lab.cli.ok("start", "host", "vm", "wc-compute-0")
    server._take_console(fingerprint)
    server._take_console(fingerprint)
    try:
        before = lab.state()
        error, stream = _console(lab, lab.owner, "vc-compute-0")
        assert error == f"key {fingerprint} has 2 consoles open already"
        assert stream == b""
        assert lab.state() == before
        assert (lab.audit()[-1]["result"], lab.audit()[-1]["reason"]) == ("refused", error)
        # another key has slots of its own
        assert _console(lab, lab.other, "wc-compute-0")[0] == ""
        server._give_console(fingerprint)  # one of the two is closed
        error, stream = _console(lab, lab.owner, "vc-compute-0")
        assert error == ""
        assert stream.startswith(b"\r\n[")
        # the console that closed gave its slot back: one is still held
        assert server._consoles[fingerprint] == 1
        assert server._consoles[lab.other.fingerprint] == 0
    finally:
        server._give_console(fingerprint)


def test_consoles_taken_at_once_stop_at_the_bound(lab) -> None:
    import threading

    server, fingerprint = lab.server, lab.tenant("racer").fingerprint
    taken: list[bool] = []
    go = threading.Barrier(16)

    def take() -> None:
        go.wait()
        try:
            server._take_console(fingerprint)
        except envelope.Refused:
            taken.append(False)
        else:
            taken.append(True)

    threads = [threading.Thread(target=take) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == [False] * 14 + [True] * 2
    assert server._consoles[fingerprint] == 2
