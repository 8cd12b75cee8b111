"""`cairn open host console`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param
from cairn.cli.spec import Command as Base
from cairn.commands._tenant import TENANT
from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.context import Context


def _escape(word: str) -> bytes:
    """^] or ^A..^_ (a control key), as virsh console's --escape."""
    if len(word) == 2 and word[0] == "^" and 64 <= ord(word[1].upper()) <= 95:
        return bytes([ord(word[1].upper()) - 64])
    raise ValueError(f"{word!r} is not a control key; write it as ^] or ^A ... ^_")


class Command(Base):
    """Attaches to a running VM's serial console.

    The console is reached through libvirt's own connection to the VM's
    container (its kvm_connection: local, qemu+ssh or qemu+tls), as `virsh
    console` does: no other port or daemon. On a terminal, keys go to the VM
    until the escape key (printed when it starts; ^] unless escape= says
    otherwise) ends the session; readonly=yes only shows the output. Without a
    terminal (a script), the output is streamed to stdout and the command ends
    when the console closes (the VM stops) or after seconds=. A console that
    another session holds is refused unless force=yes, which takes it over.
    log= appends everything the VM prints to a file on this machine. For the
    BIOS's messages on the console, set kvm_bios_useserial to true.

    With key=, it is a tenant's request: signed with that private key on this
    machine (no database needed) and sent to the Airboss (airboss=), which
    attaches only a VM of the key's cluster (named or by its MAC). ^] ends it;
    readonly= applies, the other parameters are root's.
    """

    args = (Arg("host", "the VM's name, or one of its MACs", metavar="VM|MAC"),)
    params = (
        Param("readonly", "only show the output, never type into the console", False,
              values.boolean, metavar="BOOL"),
        Param("force", "take over a console another session holds", False, values.boolean,
              metavar="BOOL"),
        Param("log", "append the console's output to this file on this machine", metavar="PATH"),
        Param("seconds", "end after this many seconds (0: when the console closes)", 0,
              values.integer(0, 31_536_000), metavar="S"),
        Param("escape", "the key that ends the session", "^]", _escape, metavar="^KEY"),
        *TENANT,
    )  # fmt: skip
    examples = (
        Example("cairn open host console hosted-vm-0-0-0", "Types into the VM's console; ^] ends."),
        Example(
            "cairn open host console hosted-vm-0-0-0 readonly=yes seconds=30 log=/tmp/vm.log",
            "Watches (and logs) the console for 30 seconds.",
        ),
        Example(
            "cairn open host console lab-compute-0 key=~/.cairn/lab-owner airboss=127.0.0.1",
            "A tenant opens its compute's console through the Airboss.",
        ),
    )
    related = ("report host vm vnc", "start host vm", "set host attr")
    interactive = True  # the cairn service hands it back: it reads the user's keys

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        if a["key"]:
            _through_airboss(a)
            return
        import contextlib
        import sys

        from cairn.cli import terminal
        from cairn.hypervisor import console, eventloop
        from cairn.hypervisor.connections import Connections
        from cairn.lifecycle.targets import guest_of
        from cairn.vms.define import one_vm
        from cairn.vms.named import is_mac, vms_named

        word = a["host"]
        vm = vms_named(ctx.session, [word])[0] if is_mac(word) else one_vm(ctx.session, word)
        name = vm.host.name
        log = _open_log(a["log"])
        typing = terminal.interactive() and not a["readonly"]
        # A default is not converted as a given value is: "^]" comes as text.
        escape = _escape(a["escape"]) if isinstance(a["escape"], str) else a["escape"]
        eventloop.register()  # before the connection opens

        def sink(data: bytes) -> None:
            terminal.write_out(data)
            if log is not None:
                log.write(data)
                log.flush()

        def attached() -> None:
            how = (
                f"Escape character is {console.escape_name(escape)}"
                if typing
                else "read-only" + (f", for {a['seconds']} s" if a["seconds"] else "")
            )
            print(f"Connected to {name} ({how})", file=sys.stderr, flush=True)

        try:
            with Connections() as conns:
                guest = guest_of(ctx.session, vm, conns)
                fd = sys.stdin.fileno() if typing else None
                with terminal.raw(fd) if fd is not None else contextlib.nullcontext():
                    ended = console.attach(
                        guest,
                        sink,
                        source=fd,
                        escape=escape,
                        force=a["force"],
                        seconds=a["seconds"] or None,
                        attached=attached,
                    )
                if fd is not None:
                    print("", file=sys.stderr)
        finally:
            if log is not None:
                log.close()
        if ended.why == "error":
            raise CairnError(
                f"the console of {name} closed: {ended.detail} (another session may have"
                " taken it over with force=yes)"
            )


def _through_airboss(a: dict[str, Any]) -> None:
    from pathlib import Path

    from cairn.airboss import client
    from cairn.commands._tenant import passphrase_for

    key = Path(a["key"]).expanduser()
    client.console(
        a["host"],
        key=key,
        address=a["airboss"],
        ca=a["ca"],
        passphrase=passphrase_for(key),
        readonly=a["readonly"],
    )


def _open_log(path: str | None) -> Any:
    if path is None:
        return None
    try:
        return open(path, "ab")
    except OSError as exc:
        raise CairnError(f"cannot write the console log {path}: {exc.strerror}") from None
