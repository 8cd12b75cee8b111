"""The registry of attributes (cairn.attrs.wellknown): declared once, and checks,
typed reads and the listing all come from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cairn import attrcheck
from cairn.attrs import wellknown as wk
from cairn.attrs.scopes import Resolved
from cairn.errors import CairnError

SRC = Path(__file__).resolve().parents[3] / "src" / "cairn"
# Names in string constants that look like attributes cairn might read.
_CANDIDATE = re.compile(
    r"^(kvm(_[a-z_]+)?|cpu_mode|HVM_Features|vm_mac_[a-z_]+|cairn_command|network_command"
    r"|installaction)$"
)
# Strings that look like attribute names but are something else.
# kvm_device: a prefix used to catch misspelt names; kvm_connection_options: a key
# of the administrator's config file (cairn.toml), not an attribute.
_NOT_ATTRIBUTES = frozenset({"kvm_device", "kvm_connection_options"})


def _read_names() -> set[tuple[str, str]]:
    """(name, file) of every string constant in the code that looks like an attribute."""
    found = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _CANDIDATE.fullmatch(node.value)
                and node.value not in _NOT_ATTRIBUTES
            ):
                found.add((node.value, str(path.relative_to(SRC))))
    return found


def test_every_attribute_the_code_names_is_declared() -> None:
    # "kvm" also names libvirt's domain type and a <features> element: declared anyway.
    missing = sorted(
        (n, f) for n, f in _read_names() if wk.lookup(n) is None and n not in wk.RENAMED
    )
    assert not missing, f"declare these in cairn.attrs.wellknown.KNOBS: {missing}"


def test_every_declaration_is_read_somewhere() -> None:
    named = {n for n, _ in _read_names()} | {"kvm_device_N"}
    unread = [k.name for k in wk.KNOBS if k.kind != wk.INTRINSIC_KIND and k.name not in named]
    assert not unread, f"declared but never read: {unread}"


def test_each_declaration_is_complete() -> None:
    from cairn.domainxml.fragments import ROOTS

    assert len({k.name for k in wk.KNOBS}) == len(wk.KNOBS)
    for knob in wk.KNOBS:
        assert knob.kind in wk.KINDS and knob.help and "\n" not in knob.help
        if knob.kind == wk.XML:
            assert knob.place in ROOTS, knob.name
        if knob.kind == wk.BOOLEAN:
            assert knob.default in ("true", "false")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("kvm", "maybe"),
        ("kvm_autostart", "2"),
        ("kvm_machine_type", "virt"),
        ("kvm_machine_type", "pctext"),
        ("kvm_machine_type", "pc i440fx"),
        ("cpu_mode", "exact"),
        ("cpu_mode", "custom: <vendor>Intel</vendor>"),
        ("cpu_mode", "turbo"),
        ("kvm_cpu_pinning", "pinall"),
        ("kvm_device_0", "<domain/>"),
        ("HVM_Features", "acpi"),
        ("kvm_connection", "not a uri"),
        ("kvm_disk_dir", "relative/dir"),
        ("vm_mac_base_addr", "zz:00"),
        ("cairn_command", "cairn; rm -rf /"),
    ],
)
def test_a_value_that_cannot_work_is_refused_when_set(name: str, value: str) -> None:
    with pytest.raises(CairnError, match=rf"^attribute {name} for host h"):
        attrcheck.check(name, value, "host h")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("kvm", "yes"),
        ("kvm_machine_type", "q35"),
        ("kvm_machine_type", "pc-q35-7.2"),
        ("cpu_mode", "exact: <model>core2duo</model>"),
        ("cpu_mode", "none"),
        ("kvm_cpu_pinning", "pin_all"),
        ("kvm_device_12", "<serial type='pty'/>"),
        ("kvm_disk_dir", "/srv/disks/"),
        ("some_site_attribute", "anything at all"),
    ],
)
def test_a_value_that_works_is_taken(name: str, value: str) -> None:
    attrcheck.check(name, value, "host h")


@pytest.mark.parametrize(
    "name", ["CPU_MODE", "Kvm", "kvm_Autostart", "hvm_features", "KVM_DEVICE_0"]
)
def test_a_name_that_differs_only_in_case_from_a_declared_one_is_refused(name: str) -> None:
    with pytest.raises(CairnError, match="case-sensitive"):
        attrcheck.check(name, "x", "host h")


@pytest.mark.parametrize("name", ["kvm_device_01", "kvm_device", "kvm_devices_1"])
def test_a_device_name_cairn_would_not_read_is_refused(name: str) -> None:
    with pytest.raises(CairnError, match="kvm_device_N"):
        attrcheck.check(name, "<serial type='pty'/>", "host h")


def test_one_boolean_rule_default_and_a_bad_stored_value() -> None:
    assert wk.flag({}, "kvm_autostart", "h") is False
    assert wk.flag({"kvm_autostart": Resolved("Yes", "A")}, "kvm_autostart", "h") is True
    with pytest.raises(CairnError, match=r"attribute kvm of host h \(appliance scope\)"):
        wk.flag({"kvm": Resolved("maybe", "A")}, "kvm", "h")


def test_bad_stored_boolean_is_an_error_for_every_reader(cluster) -> None:
    """Before the registry, start/targets/define/profile read such a value as false."""
    from sqlalchemy import create_engine, text

    engine = create_engine(cluster.url.replace("mysql://", "mysql+pymysql://", 1))
    with engine.begin() as conn:  # as a database from before the checks might hold it
        conn.execute(
            text(
                "INSERT INTO appliance_attrs (appliance_id, name, value)"
                " SELECT id, 'kvm', 'maybe' FROM appliances WHERE name = 'compute'"
            )
        )
    engine.dispose()
    said = "attribute kvm of {} (appliance scope): 'maybe' is not a boolean"
    for words, who in (
        (("add", "host", "vm", "compute-0-0"), "host compute-0-0"),
        (("list", "appliance"), "appliance compute"),
    ):
        result = cluster(*words)
        assert result.code == 1 and result.err.count("\n") == 1, words
        assert said.format(who) in result.err
    assert said.format("host compute-0-0") in cluster.ok("report", "host", "profile", "compute-0-0")


def test_help_lists_every_declaration(sqlite_cli) -> None:
    out = sqlite_cli.ok("help", "attrs")
    for knob in wk.KNOBS:
        assert re.search(rf"^{re.escape(knob.name)}\s+{re.escape(knob.kind)}\s", out, re.M), knob


def test_names_that_differ_only_in_case_are_refused_on_every_backend(cluster) -> None:
    cluster.ok("set", "host", "attr", "compute-0-0", "note", "one")
    for words in (
        ("set", "host", "attr", "compute-0-0", "Note", "two"),
        ("add", "host", "attr", "compute-0-0", "NOTE", "two"),
        ("set", "host", "attr", "compute-0-0", "CPU_MODE", "bogus"),
    ):
        refused = cluster(*words)
        assert refused.code != 0 and refused.err.count("\n") == 1, words
    assert cluster.ok("report", "host", "attr", "compute-0-0", "attr=note") == "one\n"
    cluster.ok("set", "host", "attr", "compute-0-1", "Note", "other host, other owner")


def test_mariadb_comparing_without_case_cannot_be_fooled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database made with MariaDB's default collation compares names without case:
    CPU_MODE would have passed unchecked and overwritten cpu_mode."""
    import os
    import uuid

    from testkit import MYSQL_ADMIN_URL, Cli, build_cluster, mysql_admin

    if MYSQL_ADMIN_URL is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but CAIRN_TEST_MYSQL_URL is not set")
        pytest.skip("MariaDB not configured (CAIRN_TEST_MYSQL_URL)")
    name = f"cairn_ci_{uuid.uuid4().hex[:8]}"
    mysql_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    try:
        cli = Cli(f"{MYSQL_ADMIN_URL.rstrip('/')}/{name}?charset=utf8mb4", capsys, monkeypatch)
        build_cluster(cli)
        before = cli.ok("report", "host", "attr", "compute-0-0", "attr=cpu_mode")
        refused = cli("set", "attr", "CPU_MODE", "bogus")
        assert refused.code != 0 and "case-sensitive" in refused.err
        assert cli.ok("report", "host", "attr", "compute-0-0", "attr=cpu_mode") == before
        cli.ok("set", "host", "attr", "compute-0-0", "note", "one")
        assert cli("set", "host", "attr", "compute-0-0", "NOTE", "two").code != 0
        assert cli.ok("report", "host", "attr", "compute-0-0", "attr=note") == "one\n"
        # Removing and reading compare with case too: NOTE is not note.
        assert cli("remove", "host", "attr", "compute-0-0", "NOTE").code != 0
        assert cli("report", "host", "attr", "compute-0-0", "attr=NOTE").out != "one\n"
        assert cli("remove", "attr", "CPU_MODE").code != 0
        assert cli.ok("report", "host", "attr", "compute-0-0", "attr=note") == "one\n"
        assert cli.ok("report", "host", "attr", "compute-0-0", "attr=cpu_mode") == before
    finally:
        mysql_admin(f"DROP DATABASE IF EXISTS `{name}`")


def test_declared_defaults_are_the_ones_the_code_uses() -> None:
    from cairn.container.profile import DEFAULT_SAVE_DIR
    from cairn.designer import DEFAULT_MACHINE
    from cairn.domainxml.features import DEFAULT_FEATURES
    from cairn.inventory.containers import REMOTE
    from cairn.vms import macs
    from cairn.vms.disks import DEFAULT_DIR

    default = {k.name: k.default for k in wk.KNOBS}
    assert default["kvm_disk_dir"] == DEFAULT_DIR
    assert default["kvm_save_dir"] == DEFAULT_SAVE_DIR
    assert default["kvm_machine_type"] == DEFAULT_MACHINE
    assert default["kvm_connection"] == REMOTE
    assert default["vm_mac_base_addr"] == macs.DEFAULT_BASE
    assert default["vm_mac_base_addr_mask"] == macs.DEFAULT_MASK
    assert default["HVM_Features"] == "".join(f"<{f}/>" for f in DEFAULT_FEATURES)
