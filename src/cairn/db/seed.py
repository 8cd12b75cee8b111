"""What a new database holds (COMMANDS.md → Database and defaults).

Run once, when the database is created; later upgrades never re-add what an
administrator removed on purpose.
"""

from __future__ import annotations

import re

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from cairn.db.hostfacts import local_hostname
from cairn.db.models import OS, Appliance, ApplianceAttr, GlobalAttr, Host, Network

APPLIANCES = ("frontend", "compute", "vm-container", "hosted-vm")
# Attribute values in their stored form (cairn.attrs.escape), written as they
# are: the database, the lowest layer, does not import attrs to escape them
# (tests/unit/db/test_db_seed.py checks that they are stored forms).
APPLIANCE_ATTRS = {"vm-container": {"kvm": "true"}}
GLOBAL_ATTRS = {"cpu_mode": "host-passthrough"}
# Rocks' two networks: the cluster's private one (Rocks' default subnet) and
# the public one, whose subnet is the site's (`cairn set network public ...`).
# Each has the bridge its VMs join on the containers that have an interface on it.
NETWORKS = (
    {"name": "private", "subnet": "10.1.0.0", "netmask": "255.255.0.0", "bridge": "br-private"},
    {"name": "public", "subnet": None, "netmask": None, "bridge": "br-public"},
)
DEFAULT_OS = "linux"
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def defaults(conn: Connection) -> None:
    conn.execute(insert(OS), [{"name": DEFAULT_OS}])
    conn.execute(insert(Appliance), [{"name": n} for n in APPLIANCES])
    conn.execute(insert(Network), list(NETWORKS))
    ids = dict(conn.execute(select(Appliance.name, Appliance.id)).all())
    conn.execute(
        insert(ApplianceAttr),
        [
            {"appliance_id": ids[app], "name": k, "value": v}
            for app, attrs in APPLIANCE_ATTRS.items()
            for k, v in attrs.items()
        ],
    )
    conn.execute(insert(GlobalAttr), [{"name": k, "value": v} for k, v in GLOBAL_ATTRS.items()])
    name = local_hostname()
    if _LABEL.fullmatch(name):
        os_id = conn.execute(select(OS.id).where(OS.name == DEFAULT_OS)).scalar_one()
        conn.execute(
            insert(Host),
            [
                {
                    "name": name,
                    "appliance_id": ids["frontend"],
                    "os_id": os_id,
                    "rack": 0,
                    "rank": 0,
                    "cpus": 1,
                }
            ],
        )
