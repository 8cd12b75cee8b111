"""The tables of the cluster database, as typed SQLAlchemy 2 models.

Only the shape of the data and its constraints live here; rules about what a
value may be live in the services that write it. Every change to this file
comes with an Alembic migration in `migrations/versions/`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME = String(63)  # a DNS label
ATTR_NAME = String(128)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OS(Base):
    __tablename__ = "oses"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)


class Appliance(Base):
    __tablename__ = "appliances"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)


class Host(Base):
    __tablename__ = "hosts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    appliance_id: Mapped[int] = mapped_column(ForeignKey("appliances.id", ondelete="RESTRICT"))
    os_id: Mapped[int] = mapped_column(ForeignKey("oses.id", ondelete="RESTRICT"))
    rack: Mapped[int] = mapped_column(Integer, default=0)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    cpus: Mapped[int] = mapped_column(Integer, default=1)
    # What the host gets when it boots from the network: install | os | None.
    boot: Mapped[str | None] = mapped_column(String(8))

    appliance: Mapped[Appliance] = relationship(lazy="joined", innerjoin=True)
    os: Mapped[OS] = relationship(lazy="joined", innerjoin=True)
    interfaces: Mapped[list[Interface]] = relationship(
        back_populates="host", cascade="all, delete-orphan", passive_deletes=True
    )


class Network(Base):
    __tablename__ = "networks"
    __table_args__ = (
        UniqueConstraint("isolation", "isolation_id", name="uq_networks_isolation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    subnet: Mapped[str | None] = mapped_column(String(64))
    netmask: Mapped[str | None] = mapped_column(String(64))
    bridge: Mapped[str | None] = mapped_column(String(15))
    # A libvirt network on the containers that VM interfaces on this network join.
    libvirt_network: Mapped[str | None] = mapped_column(String(63))
    # How it is kept apart from the others on the containers: None (a plain
    # bridge over the container's interface on it), "vlan" (802.1Q id on the
    # container's interface on the carrier network) or "vxlan" (VNI carried
    # over the carrier network's addresses).
    isolation: Mapped[str | None] = mapped_column(String(8))
    isolation_id: Mapped[int | None] = mapped_column(Integer)
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="RESTRICT"))
    # The frontend serves DHCP (fixed leases, PXE) on it; a range for unknown MACs.
    dhcp: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    dhcp_range: Mapped[str | None] = mapped_column(String(100))
    # "cluster": the virtual cluster's own frontend serves DHCP and PXE on it
    # (its owner's cairn), so this one's dnsmasq stays off it; dhcp is then false.
    dhcp_server: Mapped[str | None] = mapped_column(String(8))

    carrier: Mapped[Network | None] = relationship(remote_side=[id], lazy="joined")


class Interface(Base):
    __tablename__ = "interfaces"
    __table_args__ = (UniqueConstraint("host_id", "name", name="uq_interfaces_host_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(15))
    mac: Mapped[str | None] = mapped_column(String(17), unique=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="RESTRICT"))
    vlan: Mapped[int | None] = mapped_column(Integer)
    # Rocks' "name": the host's name on this interface (e.g. its public name).
    hostname: Mapped[str | None] = mapped_column(String(255))
    module: Mapped[str | None] = mapped_column(String(64))  # the kernel driver
    # Kept in the database but left out of the VM's domain (Rocks' disablekvm).
    disablekvm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    host: Mapped[Host] = relationship(back_populates="interfaces")
    network: Mapped[Network | None] = relationship(lazy="joined")


class GlobalAttr(Base):
    __tablename__ = "global_attrs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(ATTR_NAME, unique=True)
    value: Mapped[str] = mapped_column(Text)  # stored XML-escaped (seed)


class OSAttr(Base):
    __tablename__ = "os_attrs"
    __table_args__ = (UniqueConstraint("os_id", "name", name="uq_os_attrs_owner_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    os_id: Mapped[int] = mapped_column(ForeignKey("oses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(ATTR_NAME)
    value: Mapped[str] = mapped_column(Text)


class ApplianceAttr(Base):
    __tablename__ = "appliance_attrs"
    __table_args__ = (
        UniqueConstraint("appliance_id", "name", name="uq_appliance_attrs_owner_name"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    appliance_id: Mapped[int] = mapped_column(ForeignKey("appliances.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(ATTR_NAME)
    value: Mapped[str] = mapped_column(Text)


class HostAttr(Base):
    __tablename__ = "host_attrs"
    __table_args__ = (UniqueConstraint("host_id", "name", name="uq_host_attrs_owner_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(ATTR_NAME)
    value: Mapped[str] = mapped_column(Text)


class VM(Base):
    """A virtual machine: a host (its name, appliance, cpus, interfaces, attributes)
    that runs on a container host, in one of the container's slices."""

    __tablename__ = "vms"
    __table_args__ = (UniqueConstraint("container_id", "slice", name="uq_vms_container_slice"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), unique=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="RESTRICT"))
    slice: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    virt_type: Mapped[str] = mapped_column(String(8), default="hvm")
    cdrom: Mapped[str | None] = mapped_column(String(4096))
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # True from a successful plugin_allocate until plugin_disallocate has run, so
    # that what was allocated is released exactly once.
    allocated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"))

    host: Mapped[Host] = relationship(foreign_keys=[host_id], lazy="joined", innerjoin=True)
    container: Mapped[Host] = relationship(
        foreign_keys=[container_id], lazy="joined", innerjoin=True
    )
    disks: Mapped[list[VMDisk]] = relationship(
        back_populates="vm",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="VMDisk.position",
        lazy="selectin",
    )


class VMDisk(Base):
    __tablename__ = "vm_disks"
    __table_args__ = (UniqueConstraint("vm_id", "device", name="uq_vm_disks_vm_device"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vm_id: Mapped[int] = mapped_column(ForeignKey("vms.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # file (raw) | qcow2 | phy
    path: Mapped[str] = mapped_column(String(4096))
    device: Mapped[str] = mapped_column(String(16))
    bus: Mapped[str] = mapped_column(String(8))
    size_gb: Mapped[int] = mapped_column(Integer)

    vm: Mapped[VM] = relationship(back_populates="disks")


class BootAction(Base):
    """A named network boot: the kernel, ramdisk and arguments PXE serves."""

    __tablename__ = "bootactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    kernel: Mapped[str] = mapped_column(String(4096))
    ramdisk: Mapped[str | None] = mapped_column(String(4096))
    args: Mapped[str | None] = mapped_column(Text)


class Cluster(Base):
    """A virtual cluster: a frontend VM and compute VMs on a network it owns."""

    __tablename__ = "clusters"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="RESTRICT"))
    frontend_id: Mapped[int | None] = mapped_column(
        ForeignKey("hosts.id", ondelete="SET NULL"), unique=True
    )

    network: Mapped[Network] = relationship(lazy="joined", innerjoin=True)
    frontend: Mapped[Host | None] = relationship(lazy="joined")


# The Airboss (cairn.airboss): tenant keys, the nonces it has seen, its audit log.
FINGERPRINT = String(80)  # "SHA256:" and 43 base64 characters, as ssh-keygen -l prints


class TenantKey(Base):
    """A public key bound to a virtual cluster's frontend VM: its holder may drive
    that cluster's VMs through the Airboss, and nothing else."""

    __tablename__ = "tenant_keys"
    __table_args__ = (
        UniqueConstraint("frontend_id", "fingerprint", name="uq_tenant_keys_frontend_fingerprint"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    frontend_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    algorithm: Mapped[str] = mapped_column(String(32))  # ssh-ed25519 | ssh-rsa
    public_key: Mapped[str] = mapped_column(Text)  # the OpenSSH one-line form
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, index=True)
    comment: Mapped[str | None] = mapped_column(String(255))
    created: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC


class AirbossNonce(Base):
    """A nonce the Airboss accepted within the time window: a request that carries
    it again is a replay. In the database so that every service on it agrees."""

    __tablename__ = "airboss_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT)
    seen: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC


class AirbossAudit(Base):
    """One request to the Airboss, accepted or refused, and why."""

    __tablename__ = "airboss_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC
    fingerprint: Mapped[str | None] = mapped_column(FINGERPRINT, index=True)
    source: Mapped[str] = mapped_column(String(128))
    op: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(8))  # accepted | refused
    reason: Mapped[str | None] = mapped_column(String(255))
