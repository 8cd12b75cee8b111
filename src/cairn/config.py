"""The administrator's config file, for any package that needs a key from it.

$CAIRN_CONFIG, else /etc/cairn/cairn.toml for root, else
$XDG_CONFIG_HOME/cairn/cairn.toml. Keys: `db_url` (cairn.db.url),
`kvm_connection_options` (cairn.hypervisor.uri: the libvirt URI options, such
as `socket` or `keyfile`, that kvm_connection may use), `network_commands`
(cairn.container.netcommand: the network_command templates allowed besides
ssh and ip netns exec), `vm_storage_dirs` and `vm_host_devices`
(cairn.vms.reach: the directories and host devices VMs may be pointed at),
`tenant_iso_dirs` (cairn.vms.isos: where the ISO files a tenant may use lie). The reading itself
lives in cairn.db.url, kept light for the `cairn` client (no SQLAlchemy, lazy
imports); what each key means belongs to its reader.
"""

from __future__ import annotations

from pathlib import Path


def config_path() -> Path:
    from cairn.db import url

    return url.config_path()


def config() -> dict[str, object]:
    from cairn.db import url

    return url.config()
