"""`cairn add cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param
from cairn.cli.spec import Command as Base
from cairn.commands._network import network_param
from cairn.commands._rocks_cluster import (
    ROCKS_CLUSTER_PARAMS,
    ROCKS_PARAMS,
    rocks_cluster,
    rocks_form,
    rocks_words,
)
from cairn.errors import UsageError

if TYPE_CHECKING:
    from cairn.context import Context

PUBLIC_DEFAULT = "public"


class Command(Base):
    """Adds a virtual cluster: a frontend VM and N computes on a network of its own.

    The cluster's network is isolated (VXLAN by default, over the private
    network; its id and a free /24 in 10.128.0.0/9 are chosen unless given),
    with DHCP on. The frontend VM NAME has eth0 on it and eth1 on the public
    network; the computes NAME-compute-I are on the cluster's network only and
    set to install from the network. MACs and addresses come from the
    database; each VM goes to the VM container with the most free memory that
    reaches its networks (the rule of the example plugin_allocate). Start it
    with `cairn start cluster NAME`.

    network=, frontend= and member= adopt a network and VMs that exist (that is
    how `cairn dump` replays a cluster).

    Rocks' form, `cairn add cluster IP NUM-COMPUTES [fe-name=NAME] ...`, makes
    the same kind of cluster from Rocks 6.2's words: the first word is the
    frontend's public IP (eth1, on public) instead of a name. The frontend is
    fe-name (default frontend-0-0-N), set to install with the boot action
    'install vm frontend' (add it first: cairn add bootaction); the computes
    take add host vm's names (compute-RACK-RANK-SLICE), or vm-FE-NAME-I with
    cluster-naming=true, and go to container-hosts (default: every VM
    container) in turn. vlan=ID makes the cluster's network VLAN ID of
    private, as in Rocks; without it, a VXLAN as above. The Rocks parameters
    below (fe-name= to virt-type=) belong to that form only.
    """

    args = (
        Arg(
            "cluster",
            "the cluster name (its frontend VM's name); Rocks' form: the frontend's IP",
            metavar="NAME|IP",
        ),
        Arg(
            "num-computes",
            "Rocks' form: the number of computes",
            required=False,
            convert=values.integer(0, 4096),
            metavar="N",
        ),
    )
    params = (
        Param("computes", "compute VMs to make", None, values.integer(0, 4096), metavar="N"),
        Param("subnet", "the cluster network's subnet (default: a free /24)", metavar="CIDR"),
        network_param(
            "isolation",
            "vxlan or vlan",
            default="vxlan",
            convert=values.choice("vxlan", "vlan"),
        ),
        network_param("id", "the network's VXLAN or VLAN id"),
        network_param("carrier", "the network it crosses (default: private)"),
        network_param(
            "dhcp",
            "who serves DHCP and PXE to the computes: yes (this frontend) or cluster (the"
            " cluster's own frontend VM; see set network)",
            default=True,
        ),
        Param(
            "public", "the frontend's public network (none: no eth1)", PUBLIC_DEFAULT, metavar="NET"
        ),
        Param("public-ip", "the frontend's public address", convert=values.ip, metavar="IP"),
        Param("mem", "MB of memory per VM", 1024, values.integer(64, 4194304), metavar="MB"),
        Param("cpus", "CPUs per VM", 1, values.integer(1, 4096), metavar="N"),
        Param(
            "network",
            "adopt this network instead of making one",
            convert=values.label,
            metavar="NET",
        ),
        Param("frontend", "adopt this VM as the frontend", convert=values.label, metavar="HOST"),
        Param(
            "member",
            "adopt this VM as a compute (repeat)",
            convert=values.label,
            many=True,
            metavar="HOST",
        ),
        *ROCKS_CLUSTER_PARAMS,
    )
    writes = True
    in_batch = True
    examples = (
        Example(
            "cairn add cluster lab computes=2 subnet=10.77.0.0/24 public=none",
            "A frontend lab and computes lab-compute-0 and -1 on network lab.",
        ),
        Example(
            "cairn add cluster 192.0.2.10 2 fe-name=lab2 cluster-naming=true"
            " container-hosts=vm-container-0-0",
            "Rocks' form: frontend lab2 (public IP 192.0.2.10), computes vm-lab2-0"
            " and -1 on vm-container-0-0.",
        ),
    )
    related = ("list cluster", "start cluster", "stop cluster", "remove cluster")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.vms import clusters

        if rocks_form(a):
            new = rocks_cluster(ctx.session, a)
            new.dhcp = a["dhcp"]
            clusters.add(ctx.session, new)
            return
        if a["num_computes"] is not None:
            raise UsageError(
                f"unexpected {a['num_computes']!r}: give computes=N, or the frontend's IP"
                " first for Rocks' form (add cluster IP NUM-COMPUTES)"
            )
        if unused := [p for p in ROCKS_PARAMS if a[p] not in (None, [])]:
            raise UsageError(
                f"{rocks_words(unused)} belong to Rocks' form: give the frontend's IP first"
            )
        a["cluster"] = values.label(a["cluster"])
        public = a["public"]
        clusters.add(
            ctx.session,
            clusters.NewCluster(
                name=a["cluster"],
                computes=a["computes"] or 0,
                subnet=a["subnet"],
                isolation=a["isolation"],
                isolation_id=a["id"],
                carrier=a["carrier"],
                dhcp=a["dhcp"],
                public=None if public == "none" else values.label(public),
                public_ip=a["public_ip"],
                memory_mb=a["mem"],
                cpus=a["cpus"],
                network=a["network"],
                frontend=a["frontend"],
                members=tuple(a["member"] or ()),
            ),
        )
