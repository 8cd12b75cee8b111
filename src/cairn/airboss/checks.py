"""THE one answer to "may this key do this op to that VM?", for the Airboss and
for the web page (issue 21): neither keeps a copy of these rules.

    allowed = checks.may(session, fingerprint, op, target)   # or raises Refused

A key is bound (table `tenant_keys`) to the frontend VM of a virtual cluster;
it may drive that cluster's VMs and nothing else:

- a host op (`power`, `console`, `cdrom`) names one VM, by name or by the MAC
  of one of its interfaces; the VM must belong to a cluster whose frontend the
  key is bound to (not a physical host, not another cluster's VM, not a VM in
  no cluster);
- a cluster op (`cluster-power`, `macs`, `web`) names the cluster's frontend
  VM; `cluster-power` acts on the computes only (as Rocks), `macs` and `web`
  (a login link to the web page that shows the cluster) on every VM.

`Allowed` says which VMs the op then acts on, so the caller never works them
out again. (Which ISO a tenant may insert is cairn.vms.isos.tenant_iso.)
Reads only; what an op does is the commands'.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn import values
from cairn.airboss.envelope import Refused
from cairn.db.models import VM, Cluster, Host, Interface, TenantKey


class Scope(Enum):
    HOST = "host"  # the target is one VM of the cluster
    CLUSTER = "cluster"  # the target is the cluster's frontend VM


# Every op a tenant may ask for, and what its target names.
OPS: dict[str, Scope] = {
    "power": Scope.HOST,
    "console": Scope.HOST,
    "cdrom": Scope.HOST,
    "cluster-power": Scope.CLUSTER,
    "macs": Scope.CLUSTER,
    "web": Scope.CLUSTER,
}
EVERY_VM = frozenset({"macs", "web"})  # cluster ops that act on the frontend too


@dataclass(frozen=True)
class Allowed:
    """An op a key may do: the cluster, its frontend VM, and the VMs it acts on."""

    cluster: str
    frontend: str
    hosts: tuple[str, ...]


def may(session: Session, fingerprint: str, op: str, target: str) -> Allowed:
    """What `op` on `target` acts on, when the key `fingerprint` may do it;
    Refused with a one-line reason when it may not."""
    scope = OPS.get(op)
    if scope is None:
        raise Refused(f"unknown op {op[:40]!r}: one of {', '.join(sorted(OPS))}")
    frontends = set(
        session.execute(select(TenantKey.frontend_id).where(TenantKey.fingerprint == fingerprint))
        .scalars()
        .all()
    )
    if not frontends:
        raise Refused(f"key {fingerprint} is not bound to any cluster")
    vm = _vm(session, target)
    cluster = (
        session.get(Cluster, vm.cluster_id)
        if vm is not None and vm.cluster_id is not None
        else None
    )
    if cluster is None or cluster.frontend_id not in frontends:
        raise Refused(_outside(session, target, vm, cluster))
    assert cluster.frontend is not None  # bound keys cascade away with their frontend
    if scope is Scope.CLUSTER and vm is not None and vm.host_id != cluster.frontend_id:
        raise Refused(
            f"{op} takes the cluster's frontend ({cluster.frontend.name}), not {vm.host.name}"
        )
    if scope is Scope.HOST:
        assert vm is not None
        return Allowed(cluster.name, cluster.frontend.name, (vm.host.name,))
    members = session.execute(select(VM).where(VM.cluster_id == cluster.id)).scalars().all()
    names = sorted(
        m.host.name for m in members if op in EVERY_VM or m.host_id != cluster.frontend_id
    )
    return Allowed(cluster.name, cluster.frontend.name, tuple(names))


def check(fingerprint: str, op: str, target: str) -> Allowed:
    """`may` in a database session of its own: what the web page is handed (it
    reads no database itself and imports nothing of the Airboss)."""
    from cairn.context import Context

    with Context() as ctx:
        return may(ctx.session, fingerprint, op, target)


def _vm(session: Session, target: str) -> VM | None:
    """The VM `target` names (a host name, or a MAC of one of its interfaces)."""
    try:
        mac = values.mac(target)
    except ValueError:
        host_id = select(Host.id).where(Host.name == target).scalar_subquery()
    else:
        host_id = select(Interface.host_id).where(Interface.mac == mac).scalar_subquery()
    return session.execute(select(VM).where(VM.host_id == host_id)).scalar_one_or_none()


def _outside(session: Session, target: str, vm: VM | None, cluster: Cluster | None) -> str:
    shown = target[:80]
    if vm is None:
        host = session.execute(select(Host.id).where(Host.name == target)).first()
        if host is not None:
            return f"{shown} is a physical host, not a VM of your cluster"
        return f"no VM named {shown} (or with that MAC) in your cluster"
    if cluster is None:
        return f"{shown} is a VM in no cluster, not a VM of your cluster"
    return f"{shown} is a VM of another cluster, not of yours"
