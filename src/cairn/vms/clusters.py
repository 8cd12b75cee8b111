"""Virtual clusters: a frontend VM and compute VMs on an isolated network the
cluster owns (Rocks: a VLAN per virtual cluster).

`add` makes the network (VXLAN by default, carried on `private`; its id and a
free /24 chosen from the database unless given), the frontend VM (eth0 on the
cluster's network, eth1 on the public side) and the computes (eth0 on the
cluster's network only, set to install from the network). Names, MACs and
addresses come from the database; containers are chosen with the placement
rule of plugin_allocate (cairn.vms.placement), among those that reach the
networks. Power and removal of the VMs are the lifecycle's; here is only what
the database holds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import store
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner
from cairn.db.models import VM, Cluster, Host, Interface, Network
from cairn.errors import CairnError, Conflict, NotFound
from cairn.inventory import lookup, networks
from cairn.inventory.reach import why_not
from cairn.vms import define, placement

FIRST_ID = 1000  # cluster network ids start here, clear of hand-made ones
POOL = ipaddress.ip_network("10.128.0.0/9")  # where cluster subnets are found, /24 each
PUBLIC = "public"
MAX_NAME = 48  # room for -compute-NNNN in a 63-character host name


@dataclass
class NewCluster:
    name: str
    computes: int
    subnet: str | None = None
    isolation: str = "vxlan"
    isolation_id: int | None = None
    carrier: str | None = None
    public: str | None = PUBLIC  # None: no public interface
    dhcp: bool | str = True  # networks.CLUSTER: its own frontend serves its network
    public_ip: str | None = None
    memory_mb: int = 1024
    cpus: int = 1
    # Rocks' add cluster: the frontend's own sizes (default: as the computes'),
    # disk sizes in GB (default: add host vm's), the computes' names (cluster:
    # NAME-compute-I; rocks: vm-NAME-I; container: add host vm's default), the
    # containers: the frontend's, then the computes' in turn (default: the
    # placement rule), and the boot action the frontend installs with.
    frontend_memory_mb: int | None = None
    frontend_cpus: int | None = None
    frontend_disk_gb: int | None = None
    disk_gb: int | None = None
    naming: str = "cluster"
    frontend_container: str | None = None
    containers: tuple[str, ...] = ()
    install_action: str | None = None
    # Adopt what exists instead of making it (how `dump` replays a cluster).
    network: str | None = None
    frontend: str | None = None
    members: tuple[str, ...] = ()


def compute_name(cluster: str, index: int | str, naming: str = "cluster") -> str:
    return f"vm-{cluster}-{index}" if naming == "rocks" else f"{cluster}-compute-{index}"


def add(session: Session, new: NewCluster) -> Cluster:
    name = new.name
    if len(name) > MAX_NAME:
        raise CairnError(f"cluster name {name!r} is longer than {MAX_NAME} characters")
    if session.execute(select(Cluster.id).where(Cluster.name == name)).first():
        raise Conflict(f"cluster {name} exists already (see: cairn list cluster)")
    if new.frontend is None and session.execute(select(Host.id).where(Host.name == name)).first():
        raise Conflict(f"host {name} exists already: the cluster's frontend VM takes its name")
    public = _public(session, new.public) if new.frontend is None else None
    network = _network(session, new)
    cluster = Cluster(name=name, network=network)
    session.add(cluster)
    used = {
        ip
        for ip in session.execute(
            select(Interface.ip).where(Interface.network_id == network.id)
        ).scalars()
        if ip
    }
    addresses = _addresses(network, new.computes + (new.frontend is None), used)
    place = _Placer(session, [network, *([public] if public else [])], [network])
    if new.frontend is not None:
        frontend = _adopt(session, cluster, new.frontend)
    else:
        memory = new.frontend_memory_mb or new.memory_mb
        frontend = define.add(
            session,
            define.NewVM(
                container=new.frontend_container or place.next(memory, frontend=True).name,
                appliance="frontend",
                name=name,
                memory_mb=memory,
                cpus=new.frontend_cpus or new.cpus,
                num_macs=2 if public else 1,
                disksizes=[new.frontend_disk_gb] if new.frontend_disk_gb else [],
                subnet=network.name,
                ip=addresses.pop(0),
            ),
        )
        frontend.host.boot = "os"
        if new.install_action is not None:
            frontend.host.boot = "install"
            _install_action(session, frontend.host, new.install_action)
        if public:
            eth1 = next(i for i in frontend.host.interfaces if i.name == "eth1")
            networks.update_interface(
                session, eth1, mac_=None, ip_=new.public_ip, subnet=public.name, vlan=None
            )
    frontend.cluster_id = cluster.id
    cluster.frontend = frontend.host
    for member in new.members:
        _adopt(session, cluster, member)
    start = _next_index(session, name, new.naming)
    for index in range(new.computes):
        given = new.containers[index % len(new.containers)] if new.containers else None
        vm = define.add(
            session,
            define.NewVM(
                container=given or place.next(new.memory_mb).name,
                appliance="compute",
                name=None
                if new.naming == "container"
                else compute_name(name, start + index, new.naming),
                disksizes=[new.disk_gb] if new.disk_gb else [],
                memory_mb=new.memory_mb,
                cpus=new.cpus,
                subnet=network.name,
                ip=addresses[index],
            ),
        )
        vm.cluster_id = cluster.id
        vm.host.boot = "install"
    session.flush()
    return cluster


def _network(session: Session, new: NewCluster) -> Network:
    if new.network is not None:
        found = session.execute(
            select(Network).where(Network.name == new.network)
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"there is no network named {new.network!r} (see: cairn list network)")
        owner = session.execute(select(Cluster.name).where(Cluster.network_id == found.id)).first()
        if owner is not None:
            raise Conflict(f"network {found.name} belongs to cluster {owner[0]} already")
        return found
    with session.no_autoflush:
        network = networks.add_network(
            session,
            new.name,
            new.subnet or _free_subnet(session),
            None,
            None,
            change=networks.NetworkChange(
                isolation=new.isolation,
                isolation_id=new.isolation_id or _free_id(session, new.isolation),
                carrier=new.carrier,
                dhcp=new.dhcp,
            ),
        )
    session.flush()
    return network


def _adopt(session: Session, cluster: Cluster, name: str) -> VM:
    vm = define.one_vm(session, name)
    if vm.cluster_id is not None and vm.cluster_id != cluster.id:
        raise Conflict(f"{name} belongs to another cluster already")
    vm.cluster_id = cluster.id
    return vm


def _install_action(session: Session, host: Host, action: str) -> None:
    """The host attribute installaction, as Rocks' add cluster set it; the
    boot action must exist (cairn add bootaction)."""
    lookup.check_action(session, action)
    session.flush()
    store.put(session, Owner(Scope.HOST, host.id, host.name), "installaction", action, replace=True)


def _next_index(session: Session, cluster: str, naming: str = "cluster") -> int:
    prefix = compute_name(cluster, "", naming)
    names = session.execute(
        select(Host.name).where(Host.name.startswith(prefix, autoescape=True))
    ).scalars()
    taken = {int(n[len(prefix) :]) for n in names if n[len(prefix) :].isdigit()}
    return max(taken) + 1 if taken else 0


def _public(session: Session, name: str | None) -> Network | None:
    if name is None:
        return None
    found = session.execute(select(Network).where(Network.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"there is no network {name!r} for the frontend's public side: add it (cairn add"
            f" network {name} subnet=... bridge=...), or give public=NETWORK or public=none"
        )
    return found


def _free_id(session: Session, kind: str) -> int:
    used = set(
        session.execute(select(Network.isolation_id).where(Network.isolation == kind)).scalars()
    )
    return next(i for i in range(FIRST_ID, FIRST_ID + len(used) + 1) if i not in used)


def _free_subnet(session: Session) -> str:
    taken = []
    for subnet, netmask in session.execute(
        select(Network.subnet, Network.netmask).where(Network.subnet.is_not(None))
    ).all():
        try:
            taken.append(networks.network_of(subnet or "", netmask))
        except ValueError:
            continue
    for candidate in POOL.subnets(new_prefix=24):
        if not any(candidate.version == t.version and candidate.overlaps(t) for t in taken):
            return str(candidate)
    raise CairnError(f"no free /24 left in {POOL}: give subnet=")


def _addresses(network: Network, count: int, used: set[str]) -> list[str]:
    """The first `count` free addresses of the network, lowest first."""
    if not network.subnet:
        raise CairnError(f"network {network.name} has no subnet to give the cluster addresses")
    net = networks.network_of(network.subnet, network.netmask)
    hosts = (str(h) for h in net.hosts() if str(h) not in used)
    out: list[str] = []
    for _ in range(count):
        try:
            out.append(next(hosts))
        except StopIteration:
            raise CairnError(
                f"network {network.name} ({net}) has room for {len(out)} hosts, not {count}:"
                " give a larger subnet="
            ) from None
    return out


class _Placer:
    """The placement rule of plugin_allocate, counting the VMs placed so far."""

    def __init__(self, session: Session, frontend_nets: list[Network], nets: list[Network]):
        capable = placement.vm_capable(session)
        used = placement.used_memory(session)
        self.free = {c.id: placement.capacity(c, a) - used.get(c.id, 0) for c, a in capable.items()}
        self.for_frontend = [
            c for c in capable if all(why_not(n, c) is None for n in frontend_nets)
        ]
        self.for_computes = [c for c in capable if all(why_not(n, c) is None for n in nets)]
        self.nets = frontend_nets

    def next(self, memory_mb: int, *, frontend: bool = False) -> Host:
        pool = self.for_frontend if frontend else self.for_computes
        if not pool:
            names = ", ".join(n.name for n in (self.nets if frontend else self.nets[:1]))
            raise CairnError(
                f"no VM container reaches network{'s' if frontend else ''} {names}: give the"
                " containers interfaces on the carrier (see: cairn sync host network)"
            )
        chosen = placement.choose(pool, self.free, memory_mb)
        if chosen is None:
            best = max(pool, key=lambda c: self.free[c.id])
            raise CairnError(
                f"no container has {memory_mb} MB free for the next VM of the cluster"
                f" (most: {best.name} with {self.free[best.id]} MB)"
            )
        self.free[chosen.id] -= memory_mb
        return chosen


def one(session: Session, name: str) -> Cluster:
    found = session.execute(select(Cluster).where(Cluster.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"there is no cluster named {name!r} (see: cairn list cluster)")
    return found


def of_frontend(session: Session, name: str) -> Cluster:
    """The cluster whose frontend VM is named `name` (Rocks named a virtual
    cluster by its frontend), else the cluster of that name."""
    found = session.execute(
        select(Cluster).join(Host, Cluster.frontend_id == Host.id).where(Host.name == name)
    ).scalar_one_or_none()
    if found is not None:
        return found
    named = session.execute(select(Cluster).where(Cluster.name == name)).scalar_one_or_none()
    if named is None:
        raise NotFound(
            f"{name!r} is not the frontend of a virtual cluster (see: cairn list cluster)"
        )
    return named


def computes(session: Session, cluster: Cluster) -> list[VM]:
    """The cluster's VMs but its frontend, in name order (what Rocks' cluster
    power commands act on)."""
    return [vm for vm in members(session, cluster) if vm.host_id != cluster.frontend_id]


def members(session: Session, cluster: Cluster) -> list[VM]:
    """The cluster's VMs, its frontend first, then computes in name order."""
    vms = session.execute(select(VM).where(VM.cluster_id == cluster.id)).scalars().all()
    return sorted(vms, key=lambda vm: (vm.host_id != cluster.frontend_id, vm.host.name))


def remove(session: Session, cluster: Cluster) -> list[str]:
    """Remove the cluster's VMs (as hosts), the cluster and its network; the
    names removed. The caller has made sure none runs."""
    from cairn.inventory.hosts import remove_host

    gone = []
    for vm in members(session, cluster):
        gone.append(vm.host.name)
        remove_host(session, vm.host)
    session.flush()
    network = cluster.network
    session.delete(cluster)
    session.flush()
    users = session.execute(
        select(Interface.id).where(Interface.network_id == network.id).limit(1)
    ).first()
    if users is None:
        session.delete(network)
    return gone


def names_by_host(session: Session) -> dict[int, str]:
    """{a clustered VM's host id: its cluster's name}, read in one statement."""
    rows = session.execute(
        select(VM.host_id, Cluster.name).join(Cluster, Cluster.id == VM.cluster_id)
    )
    return {host_id: name for host_id, name in rows}
