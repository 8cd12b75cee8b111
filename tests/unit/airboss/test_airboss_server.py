"""The Airboss through its real socket with real signatures: what a tenant's
key may do, and every refusal, which changes nothing (the database as dump
prints it and libvirt's domains are the same after) and is audited."""

from __future__ import annotations

import time

import pytest

from cairn.airboss import envelope, keys
from cairn.errors import CairnError


def test_the_owner_powers_a_vm_of_its_cluster_on_and_off(lab) -> None:
    rows = lab.call(lab.owner, "power", "vc-compute-0", action="on")
    assert [(r["host"], r["result"]) for r in rows] == [("vc-compute-0", "started")]
    assert lab.hv.lookupByName("vc-compute-0").isActive()
    rows = lab.call(lab.owner, "power", "vc-compute-0", action="off")
    assert [(r["host"], r["result"]) for r in rows] == [("vc-compute-0", "stopped")]
    assert not lab.hv.lookupByName("vc-compute-0").isActive()
    audit = lab.audit()
    assert [(a["op"], a["target"], a["result"]) for a in audit] == [
        ("power", "vc-compute-0", "accepted"),
        ("power", "vc-compute-0", "accepted"),
    ]
    assert {a["fingerprint"] for a in audit} == {lab.owner.fingerprint}
    assert audit[0]["source"].startswith("127.0.0.1:")


def test_a_vm_named_by_its_mac(lab) -> None:
    mac = next(r["mac"] for r in lab.rows("list", "host", "macs", "vc") if r["host"] == "vc")
    rows = lab.call(lab.owner, "power", mac.upper(), action="on")
    assert [r["host"] for r in rows] == ["vc"]
    assert lab.hv.lookupByName("vc").isActive()


def test_macs_lists_the_cluster_as_root_sees_it(lab) -> None:
    rows = lab.call(lab.owner, "macs", "vc")
    assert {r["host"] for r in rows} == {"vc", "vc-compute-0", "vc-compute-1"}
    assert rows == lab.rows("list", "host", "macs", "vc")


def test_cluster_power_acts_on_the_computes_not_the_frontend(lab) -> None:
    lab.cli.ok("start", "host", "vm", "vc", "vc-compute-0", "vc-compute-1")
    rows = lab.call(lab.owner, "cluster-power", "vc", action="off")
    assert sorted(r["host"] for r in rows) == ["vc-compute-0", "vc-compute-1"]
    assert lab.hv.lookupByName("vc").isActive()
    assert not lab.hv.lookupByName("vc-compute-0").isActive()
    assert not lab.hv.lookupByName("vc-compute-1").isActive()


def test_cdrom_takes_only_an_iso_the_administrator_opened(lab, tmp_path) -> None:
    iso = lab.isos / "rescue.iso"
    iso.write_bytes(b"\0" * 2048)
    lab.call(lab.owner, "cdrom", "vc-compute-0", cdrom=str(iso))
    assert lab.rows("list", "host", "vm", "vc-compute-0")[0]["cdrom"] == str(iso)
    outside = tmp_path / "elsewhere.iso"
    outside.write_bytes(b"\0")
    before = lab.state()
    with pytest.raises(CairnError, match="not under a directory open to tenants"):
        lab.call(lab.owner, "cdrom", "vc-compute-0", cdrom=str(outside))
    assert lab.state() == before


def _refused(lab, call, reason: str) -> None:
    """`call` is refused with `reason`; nothing changed; the refusal audited."""
    before = lab.state()
    audited = len(lab.audit())
    with pytest.raises(CairnError, match=reason) as e:
        call()
    assert "\n" not in str(e.value)
    assert lab.state() == before
    rows = lab.audit()
    assert len(rows) == audited + 1
    assert rows[-1]["result"] == "refused" and rows[-1]["reason"] == str(e.value)[:255]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("wc-compute-0", "wc-compute-0 is a VM of another cluster"),
        ("wc", "wc is a VM of another cluster"),
        ("hosted", "hosted is a VM in no cluster"),
        ("vm-container-0-0", "vm-container-0-0 is a physical host"),
        ("nonesuch", "no VM named nonesuch"),
        ("52:54:00:ff:ff:fe", "no VM named 52:54:00:ff:ff:fe"),
    ],
)
def test_the_owner_cannot_touch_what_is_not_its_cluster(lab, target: str, reason: str) -> None:
    lab.cli.ok("start", "host", "vm", "wc-compute-0")
    _refused(lab, lambda: lab.call(lab.owner, "power", target, action="off"), reason)


def test_a_key_bound_to_another_cluster_cannot_touch_vc(lab) -> None:
    lab.cli.ok("start", "host", "vm", "vc-compute-0")
    _refused(
        lab,
        lambda: lab.call(lab.other, "power", "vc-compute-0", action="off"),
        "vc-compute-0 is a VM of another cluster",
    )
    _refused(lab, lambda: lab.call(lab.other, "macs", "vc"), "vc is a VM of another cluster")


def test_a_key_bound_to_nothing_is_refused(lab) -> None:
    stranger = lab.tenant("stranger")
    _refused(
        lab,
        lambda: lab.call(stranger, "power", "vc-compute-0", action="on"),
        "is not bound to any cluster",
    )
    assert lab.audit()[-1]["fingerprint"] == stranger.fingerprint


def test_cluster_ops_take_the_frontend(lab) -> None:
    _refused(
        lab,
        lambda: lab.call(lab.owner, "cluster-power", "vc-compute-0", action="on"),
        r"takes the cluster's frontend \(vc\)",
    )


def _send(lab, wire: bytes) -> None:
    error = lab.send(wire)
    if error:
        raise CairnError(error)


def _owner_key(lab):
    return keys.load_private(lab.owner.key)


def test_a_tampered_request_is_refused(lab) -> None:
    wire = envelope.sign(_owner_key(lab), "power", "vc-compute-0", {"action": "on"})
    tampered = wire.replace(b"vc-compute-0", b"vc-compute-1")
    _refused(lab, lambda: _send(lab, tampered), "bad signature")
    flipped = bytearray(wire)
    flipped[-5] ^= 0x40
    _refused(lab, lambda: _send(lab, bytes(flipped)), "bad signature")


# A stale request only grows staler on its way; a future one grows less so, by
# however long this busy machine takes to send it: +90 stays outside the window.
@pytest.mark.parametrize("skew", [-61, 90, -3600])
def test_a_stale_or_future_request_is_refused(lab, skew: int) -> None:
    wire = envelope.sign(
        _owner_key(lab), "power", "vc-compute-0", {"action": "on"}, now=time.time() + skew
    )
    _refused(lab, lambda: _send(lab, wire), "timestamp")


def test_a_replayed_request_is_refused(lab) -> None:
    wire = envelope.sign(_owner_key(lab), "power", "vc-compute-0", {"action": "on"})
    _send(lab, wire)
    assert lab.hv.lookupByName("vc-compute-0").isActive()
    lab.cli.ok("stop", "host", "vm", "vc-compute-0")
    _refused(lab, lambda: _send(lab, wire), "replayed")
    assert not lab.hv.lookupByName("vc-compute-0").isActive()


@pytest.mark.parametrize(
    ("op", "params", "reason"),
    [
        ("power", {}, "power needs action="),
        ("power", {"action": "explode"}, "bad value for action="),
        ("cluster-power", {"action": "on", "delay": "61"}, "not between 0 and 60 seconds"),
        ("power", {"action": "on", "force": "yes"}, "takes no param 'force'"),
        ("reboot-everything", {}, "unknown op"),
    ],
)
def test_bad_params_are_refused(lab, op: str, params: dict[str, str], reason: str) -> None:
    _refused(lab, lambda: lab.call(lab.owner, op, "vc-compute-0", **params), reason)


@pytest.mark.parametrize("airboss_config", ["requests_per_minute = 3\n"], indirect=True)
def test_requests_per_key_per_minute_are_bounded(lab) -> None:
    for _ in range(3):
        lab.call(lab.owner, "macs", "vc")
    _refused(lab, lambda: lab.call(lab.owner, "macs", "vc"), "more than 3 requests in a minute")
    lab.call(lab.other, "macs", "wc")  # another key has its own budget


def test_root_reads_the_log(lab) -> None:
    lab.call(lab.owner, "macs", "vc")
    with pytest.raises(CairnError):
        lab.call(lab.other, "macs", "vc")
    rows = lab.rows("list", "airboss", "log")
    assert [(r["key"], r["op"], r["target"], r["result"]) for r in rows] == [
        (lab.other.fingerprint, "macs", "vc", "refused"),
        (lab.owner.fingerprint, "macs", "vc", "accepted"),
    ]
    mine = lab.rows("list", "airboss", "log", f"key={lab.owner.fingerprint}", "limit=5")
    assert [r["result"] for r in mine] == ["accepted"]
    refused = lab.rows("list", "airboss", "log", "refused=yes")
    assert [r["key"] for r in refused] == [lab.other.fingerprint]


def test_the_tenants_commands_with_key_go_through_the_airboss(lab) -> None:
    where = (f"key={lab.owner.key}", f"airboss={lab.address}")
    on = lab.cli("set", "host", "power", "vc-compute-1", "action=on", *where)
    assert on.code == 0, on.err
    assert lab.hv.lookupByName("vc-compute-1").isActive()
    refused = lab.cli("set", "host", "power", "wc-compute-0", "action=on", *where)
    assert refused.err == "error - wc-compute-0 is a VM of another cluster, not of yours\n"
    assert "wc-compute-0" not in lab.state()[1]  # never defined
    assert [a["result"] for a in lab.audit()] == ["accepted", "refused"]


def test_two_services_on_one_database_refuse_the_same_replay(lab, tmp_path) -> None:
    from cairn.airboss.server import start
    from cairn.service.address import key_env
    from cairn.service.server import Service

    # another frontend's cairn service on the same database, with its own Airboss
    other = Service(str(tmp_path / "other.sock"), key_env(), watch=False, freeze=False)
    other.airboss = second = start(other)
    assert second is not None and second.port != lab.port
    try:
        wire = envelope.sign(_owner_key(lab), "macs", "vc")
        assert lab.send(wire) == ""
        assert lab.send(wire, port=second.port).startswith("replayed request")
    finally:
        lab.stop_alone(other)


def test_nonces_past_the_window_are_pruned(lab) -> None:
    from sqlalchemy import select

    from cairn.db.models import AirbossNonce
    from testkit import reading, write_behind

    write_behind(
        lab.cli.url,
        "INSERT INTO airboss_nonces (nonce, fingerprint, seen) VALUES (:n, :fp, :seen)",
        n="0" * 32,
        fp=lab.owner.fingerprint,
        seen="2000-01-01 00:00:00",
    )
    lab.call(lab.owner, "macs", "vc")
    with reading(lab.cli.url) as session:
        kept = session.execute(select(AirbossNonce.nonce)).scalars().all()
    assert len(kept) == 1 and kept[0] != "0" * 32


def test_a_key_row_that_cannot_be_read_is_a_refusal_not_a_traceback(lab, caplog) -> None:
    from testkit import write_behind

    write_behind(
        lab.cli.url,
        "UPDATE tenant_keys SET public_key = 'ssh-ed25519 garbage' WHERE fingerprint = :fp",
        fp=lab.owner.fingerprint,
    )
    _refused(lab, lambda: lab.call(lab.owner, "macs", "vc"), "not an OpenSSH public key")
    assert not [r for r in caplog.records if r.exc_info]


def test_an_iso_outside_is_a_refusal(lab, tmp_path) -> None:
    outside = tmp_path / "elsewhere.iso"
    outside.write_bytes(b"\0")
    _refused(
        lab,
        lambda: lab.call(lab.owner, "cdrom", "vc-compute-0", cdrom=str(outside)),
        "not under a directory open to tenants",
    )


def test_a_service_with_the_airboss_on_does_not_end_for_being_idle(lab, tmp_path) -> None:
    from cairn.airboss.server import start
    from cairn.service.address import key_env
    from cairn.service.server import Service

    service = Service(str(tmp_path / "idle.sock"), key_env(), idle=0.01, watch=False, freeze=False)
    service._last = time.monotonic() - 60
    try:
        assert service._should_end()  # without it: idle too long
        service.airboss = start(service)
        assert service.airboss is not None
        assert not service._should_end()
    finally:
        lab.stop_alone(service)


def _audited_at(lab, when: str, target: str) -> None:
    from testkit import write_behind

    write_behind(
        lab.cli.url,
        "INSERT INTO airboss_audit (at, fingerprint, source, op, target, result)"
        " VALUES (:at, :fp, 'old', 'macs', :target, 'accepted')",
        at=when,
        fp=lab.owner.fingerprint,
        target=target,
    )


def _audited_targets(lab) -> list[str]:
    return [a["target"] for a in lab.audit() if a["source"] == "old"]


@pytest.mark.parametrize("airboss_config", ["audit_days = 2\n"], indirect=True)
def test_the_audit_log_keeps_audit_days_and_is_pruned_at_most_once_a_minute(lab) -> None:
    import datetime as dt

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    _audited_at(lab, str(now - dt.timedelta(days=3)), "three-days-ago")
    _audited_at(lab, str(now - dt.timedelta(days=1)), "yesterday")

    lab.call(lab.owner, "macs", "vc")
    assert _audited_targets(lab) == ["yesterday"]

    # Within the minute, a request audits and prunes nothing.
    _audited_at(lab, "2000-01-01 00:00:00", "long-ago")
    lab.call(lab.owner, "macs", "vc")
    assert _audited_targets(lab) == ["yesterday", "long-ago"]
    assert [a["target"] for a in lab.audit() if a["source"] != "old"] == ["vc", "vc"]
