"""Hypervisor exceptions and the one place that maps libvirt errors onto them.

Only exception types and `classify` live here. The mapping looks at
`libvirtError.get_error_code()` alone, never at message text, which differs
between drivers and libvirt versions.

Importing this module silences libvirt's default error handler, which would
otherwise print every error to stderr before Python sees the exception;
nothing below `cli/` prints, and every error reaches the caller as an
exception anyway.
"""

from __future__ import annotations

import libvirt

from cairn.errors import CairnError, NotFound


class HypervisorError(CairnError):
    """A libvirt call failed; `code` is libvirt's error code, or None if not from libvirt."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ContainerUnreachable(HypervisorError):
    """The VM container's libvirt cannot be reached (connect, auth, lost connection)."""


class DomainNotFound(HypervisorError, NotFound):
    """The domain is not defined on that container."""


class InvalidState(HypervisorError):
    """The domain is in a state in which the operation makes no sense."""


class OperationTimeout(HypervisorError):
    """An operation did not finish in time (libvirt's timeout or Cairn's wait)."""


class LeftOff(HypervisorError):
    """A cold restart powered the domain off, and it did not start again: it is off."""


class StorageError(HypervisorError):
    """A storage pool or volume could not be found, created or deleted."""


_BY_CODE: dict[int, type[HypervisorError]] = {
    libvirt.VIR_ERR_NO_CONNECT: ContainerUnreachable,
    libvirt.VIR_ERR_INVALID_CONN: ContainerUnreachable,
    libvirt.VIR_ERR_RPC: ContainerUnreachable,
    libvirt.VIR_ERR_AUTH_FAILED: ContainerUnreachable,
    libvirt.VIR_ERR_AUTH_CANCELLED: ContainerUnreachable,
    libvirt.VIR_ERR_AUTH_UNAVAILABLE: ContainerUnreachable,
    libvirt.VIR_ERR_NO_DOMAIN: DomainNotFound,
    libvirt.VIR_ERR_OPERATION_INVALID: InvalidState,
    libvirt.VIR_ERR_OPERATION_TIMEOUT: OperationTimeout,
    libvirt.VIR_ERR_AGENT_UNRESPONSIVE: OperationTimeout,
    libvirt.VIR_ERR_NO_STORAGE_POOL: StorageError,
    libvirt.VIR_ERR_NO_STORAGE_VOL: StorageError,
    libvirt.VIR_ERR_INVALID_STORAGE_POOL: StorageError,
    libvirt.VIR_ERR_INVALID_STORAGE_VOL: StorageError,
    libvirt.VIR_ERR_STORAGE_PROBE_FAILED: StorageError,
    libvirt.VIR_ERR_STORAGE_POOL_BUILT: StorageError,
    libvirt.VIR_ERR_STORAGE_VOL_EXIST: StorageError,
}


def libvirt_message(exc: libvirt.libvirtError) -> str:
    """libvirt's own message on one line (some, e.g. XML parse errors, span several)."""
    text = exc.get_error_message() or str(exc)
    return " ".join(text.split())


def classify(
    exc: libvirt.libvirtError, context: str, default: type[HypervisorError] = HypervisorError
) -> HypervisorError:
    """The Cairn exception for `exc`: "<context>: <libvirt's message>".

    The class is chosen by error code; codes without a specific meaning become
    `default` (storage code passes StorageError, connection opening passes
    ContainerUnreachable, where any failure means exactly that).
    """
    code = exc.get_error_code()
    cls = _BY_CODE.get(code, default) if code is not None else default
    return cls(f"{context}: {libvirt_message(exc)}", code)


def _ignore(_ctx: object, _err: object) -> None:
    return None


libvirt.registerErrorHandler(_ignore, None)
