"""`sync host network`: make a running host's bridges, VLAN and VXLAN devices
match its network plan (`inventory.netplan`), changing only what differs.

The host's state is read with `ip -j` and `bridge -j`; the steps are argv lists
(no shell), run through the host's `network_command` prefix (`ssh {host}`,
`ip netns exec {host}`; nothing for this machine), one of those that
cairn.container.netcommand allows. Running it twice changes nothing the second
time. A dry run runs nothing at all, here or on the host: it lists the steps a
host without any of the plan would need. It never removes a bridge or device it did not plan
(it cannot know who made it), except a VXLAN or VLAN device of a planned name
whose id or ends are wrong, which it makes again.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cairn.container.netcommand import DEFAULT_REMOTE, prefix_for
from cairn.errors import CairnError
from cairn.inventory.netplan import VXLAN_PORT, BridgePlan

ZERO_MAC = "00:00:00:00:00:00"
TIMEOUT = 30


@dataclass(frozen=True)
class Step:
    says: str
    argv: tuple[str, ...]


@dataclass
class HostState:
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    addrs: dict[str, set[str]] = field(default_factory=dict)  # device -> {ADDRESS/PREFIX}
    floods: dict[str, set[str]] = field(default_factory=dict)  # vxlan device -> {peer}


class Runner:
    """Runs argv on a host through a command prefix."""

    def __init__(self, host: str, prefix: Sequence[str]):
        self.host = host
        self.prefix = list(prefix)

    def run(self, argv: Sequence[str]) -> str:
        full = [*self.prefix, *argv]
        try:
            done = subprocess.run(
                full, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CairnError(f"on {self.host}: {shlex.join(full)} could not run: {exc}") from None
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise CairnError(f"on {self.host}: {shlex.join(argv)} failed: {why}")
        return done.stdout


def read_state(runner: Runner, plan: Sequence[BridgePlan]) -> HostState:
    state = HostState()
    for link in json.loads(runner.run(["ip", "-j", "-d", "link", "show"]) or "[]"):
        state.links[link["ifname"]] = link
    for link in json.loads(runner.run(["ip", "-j", "addr", "show"]) or "[]"):
        state.addrs[link["ifname"]] = {
            f"{a['local']}/{a['prefixlen']}"
            for a in link.get("addr_info", [])
            if a.get("family") in ("inet", "inet6") and a.get("scope") != "link"
        }
    for p in plan:
        if p.kind == "vxlan" and p.port in state.links:
            fdb = json.loads(runner.run(["bridge", "-j", "fdb", "show", "dev", p.port]) or "[]")
            state.floods[p.port] = {
                e["dst"] for e in fdb if e.get("mac") == ZERO_MAC and "dst" in e
            }
    return state


def _kind(link: dict[str, Any] | None) -> str | None:
    if link is None:
        return None
    return str(link.get("linkinfo", {}).get("info_kind", "")) or None


def _data(link: dict[str, Any]) -> dict[str, Any]:
    return dict(link.get("linkinfo", {}).get("info_data", {}))


def _up(link: dict[str, Any] | None) -> bool:
    return link is not None and "UP" in link.get("flags", [])


def steps(plan: Sequence[BridgePlan], state: HostState, host: str) -> list[Step]:
    """What to run so that `state` matches `plan`; [] when it does."""
    out: list[Step] = []
    for p in plan:
        bridge = state.links.get(p.bridge)
        if bridge is None:
            out.append(
                Step(
                    f"add bridge {p.bridge} ({p.network})",
                    _ip("link", "add", "name", p.bridge, "type", "bridge"),
                )
            )
        elif _kind(bridge) != "bridge":
            raise CairnError(
                f"on {host}: {p.bridge} exists and is not a bridge; network {p.network} needs"
                f" it as its bridge (rename one of them: cairn set network {p.network} bridge=...)"
            )
        if not _up(bridge):
            out.append(Step(f"bring up {p.bridge}", _ip("link", "set", "dev", p.bridge, "up")))
        port = state.links.get(p.port)
        made = _port_device(p, port, host)
        out += made
        fresh = port is None or bool(made)
        if fresh or port.get("master") != p.bridge:  # type: ignore[union-attr]
            out.append(
                Step(
                    f"put {p.port} on bridge {p.bridge}",
                    _ip("link", "set", "dev", p.port, "master", p.bridge),
                )
            )
        if fresh or not _up(port):
            out.append(Step(f"bring up {p.port}", _ip("link", "set", "dev", p.port, "up")))
        if p.address:
            if p.address not in state.addrs.get(p.bridge, set()):
                out.append(
                    Step(
                        f"address {p.address} on {p.bridge}",
                        _ip("addr", "add", p.address, "dev", p.bridge),
                    )
                )
            if p.address in state.addrs.get(p.port, set()):
                out.append(
                    Step(
                        f"address {p.address} off {p.port} (now on its bridge)",
                        _ip("addr", "del", p.address, "dev", p.port),
                    )
                )
        if p.kind == "vxlan":
            have = set() if fresh else state.floods.get(p.port, set())
            for peer in p.peers:
                if peer not in have:
                    out.append(
                        Step(
                            f"flood {p.port} to {peer}",
                            ("bridge", "fdb", "append", ZERO_MAC, "dev", p.port, "dst", peer),
                        )
                    )
            for peer in sorted(have - set(p.peers)):
                out.append(
                    Step(
                        f"stop flooding {p.port} to {peer}",
                        ("bridge", "fdb", "del", ZERO_MAC, "dev", p.port, "dst", peer),
                    )
                )
    return out


def _ip(*words: str) -> tuple[str, ...]:
    return ("ip", *words)


def _port_device(p: BridgePlan, port: dict[str, Any] | None, host: str) -> list[Step]:
    """Make the VLAN or VXLAN device (again, if it is there with other settings)."""
    if p.kind == "plain":
        if port is None:
            raise CairnError(
                f"on {host}: there is no device {p.port} to bridge for network {p.network}"
                " (the database names it; fix the interface name with cairn set host interface)"
            )
        return []
    assert p.vid is not None
    if p.kind == "vlan":
        assert p.parent is not None
        add = _ip("link", "add", "link", p.parent, "name", p.port, "type", "vlan", "id", str(p.vid))
        right = _kind(port) == "vlan" and _data(port or {}).get("id") == p.vid
        what = f"VLAN {p.vid} device {p.port} on {p.parent}"
    else:
        assert p.local is not None
        # No `dev`: the tunnel's packets follow the route to each peer, so the
        # host's carrier address may sit on its interface or on a bridge over it.
        add = _ip(
            "link", "add", p.port, "type", "vxlan", "id", str(p.vid), "local", p.local,
            "dstport", str(VXLAN_PORT),
        )  # fmt: skip
        data = _data(port or {})
        right = (
            _kind(port) == "vxlan"
            and data.get("id") == p.vid
            and data.get("local") == p.local
            and data.get("port") == VXLAN_PORT
        )
        what = f"VXLAN {p.vid} device {p.port} from {p.local}"
    if port is None:
        return [Step(f"add {what}", add)]
    if right:
        return []
    return [
        Step(f"remove {p.port} (not {what})", _ip("link", "del", p.port)),
        Step(f"add {what}", add),
    ]


def sync(runner: Runner, plan: Sequence[BridgePlan]) -> list[Step]:
    """Apply `plan` on the runner's host; the steps taken."""
    if not plan:
        return []  # nothing planned: the host need not even be reachable
    todo = steps(plan, read_state(runner, plan), runner.host)
    for step in todo:
        runner.run(step.argv)
    return todo


def dry(plan: Sequence[BridgePlan], host: str) -> list[Step]:
    """The steps for a host that has none of `plan` (only its plain interfaces),
    found without running anything."""
    bare = HostState(links={p.port: {"ifname": p.port} for p in plan if p.kind == "plain"})
    return steps(plan, bare, host)


def runner_for(session: Any, host: Any) -> Runner:
    """How to run commands on `host`: its `network_command` attribute, else
    nothing for this machine and `ssh {host}` for the others."""
    from cairn.attrs.escape import unescape
    from cairn.attrs.resolve import resolve
    from cairn.db.hostfacts import local_hostname

    found = resolve(session, [host])[host.id].get("network_command")
    if found is not None:
        template = unescape(found.value)
    elif host.name == local_hostname():
        template = ""
    else:
        template = DEFAULT_REMOTE
    return Runner(host.name, prefix_for(template, host.name))


def sync_hosts(
    session: Any, hosts: Sequence[Any], *, dry_run: bool = False
) -> list[tuple[str, str]]:
    """(host, what changed) for each host's network plan; "nothing to change" when none."""
    from cairn.inventory.netplan import plans

    planned = plans(session, hosts)
    rows: list[tuple[str, str]] = []
    for host in hosts:
        runner = runner_for(session, host)  # a refused network_command is said, even dry
        done = dry(planned[host.id], host.name) if dry_run else sync(runner, planned[host.id])
        rows += [(host.name, s.says) for s in done] or [(host.name, "nothing to change")]
    return rows
