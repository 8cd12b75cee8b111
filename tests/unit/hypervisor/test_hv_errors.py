import libvirt
import pytest

from cairn.errors import CairnError, NotFound
from cairn.hypervisor.errors import (
    DomainNotFound,
    HypervisorError,
    InvalidState,
    StorageError,
    classify,
)


def _error(call, *args) -> libvirt.libvirtError:
    with pytest.raises(libvirt.libvirtError) as info:
        call(*args)
    return info.value


def test_no_domain_is_domain_not_found(conn):
    exc = _error(conn.lookupByName, "nope")
    err = classify(exc, "cannot find guest nope")
    assert type(err) is DomainNotFound
    assert isinstance(err, NotFound) and isinstance(err, CairnError)
    assert err.code == libvirt.VIR_ERR_NO_DOMAIN
    assert str(err) == f"cannot find guest nope: {exc.get_error_message()}"


def test_operation_invalid_is_invalid_state(conn):
    dom = conn.lookupByName("test")
    dom.destroy()
    err = classify(_error(dom.destroy), "cannot power off test")
    assert type(err) is InvalidState
    assert err.code == libvirt.VIR_ERR_OPERATION_INVALID


def test_storage_codes_are_storage_errors(conn):
    err = classify(_error(conn.storagePoolLookupByName, "nope"), "cannot find pool")
    assert type(err) is StorageError and err.code == libvirt.VIR_ERR_NO_STORAGE_POOL


def test_unmapped_codes_use_the_default(conn):
    exc = _error(conn.defineXML, "<domain")  # XML error, spread over several lines by libvirt
    assert "\n" in str(exc)
    err = classify(exc, "cannot define vm1")
    assert type(err) is HypervisorError and err.code == exc.get_error_code()
    assert "\n" not in str(err) and str(err).startswith("cannot define vm1: ")
    assert type(classify(exc, "x", StorageError)) is StorageError


def test_class_follows_the_code_not_the_message(conn, monkeypatch):
    exc = _error(conn.lookupByName, "nope")
    monkeypatch.setattr(exc, "get_error_message", lambda: "Requested operation is not valid")
    assert type(classify(exc, "ctx")) is DomainNotFound


def test_libvirt_does_not_print_errors(conn, capfd):
    _error(conn.lookupByName, "nope")
    assert capfd.readouterr().err == ""
