"""Tenant keys as the database holds them: public keys bound to the frontend VM
of a virtual cluster (`add|list|remove host key`, and `dump`).

What belongs here: binding, listing and unbinding rows of `tenant_keys`, each
bound to a cluster's frontend VM and nothing else. Not here: reading or
checking a key (cairn.airboss.keys: the command passes a checked key's
fields), nor what a key may do (cairn.airboss.checks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import Cluster, Host, TenantKey
from cairn.errors import CairnError, Conflict, NotFound

MAX_COMMENT = 255  # tenant_keys.comment


@dataclass(frozen=True)
class NewKey:
    """A checked public key (cairn.airboss.keys.PublicKey's fields)."""

    algorithm: str
    public_key: str  # the OpenSSH one-line form, without the comment
    fingerprint: str
    comment: str = ""


def frontend(session: Session, name: str) -> Host:
    """The frontend VM named `name` of a virtual cluster, refused in one line else."""
    host = session.execute(
        select(Host).join(Cluster, Cluster.frontend_id == Host.id).where(Host.name == name)
    ).scalar_one_or_none()
    if host is None:
        what = "no host" if _missing(session, name) else "not the frontend VM of a virtual cluster"
        raise CairnError(
            f"{name} is {what}: a key is bound to a virtual cluster's frontend (see: cairn"
            " list cluster)"
        )
    return host


def _missing(session: Session, name: str) -> bool:
    return session.execute(select(Host.id).where(Host.name == name)).first() is None


def bind(session: Session, host: Host, key: NewKey) -> TenantKey:
    """Bind `key` to the frontend `host`; a key bound to it already is refused."""
    if len(key.comment) > MAX_COMMENT or not key.comment.isprintable():
        raise CairnError(
            f"the key's comment must be printable and at most {MAX_COMMENT} characters:"
            " change it in the .pub file (the text after the key)"
        )
    taken = session.execute(
        select(TenantKey.id).where(
            TenantKey.frontend_id == host.id, TenantKey.fingerprint == key.fingerprint
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"the key {key.fingerprint} is bound to {host.name} already (id {taken[0]};"
            f" see: cairn list host key {host.name})"
        )
    row = TenantKey(
        frontend_id=host.id,
        algorithm=key.algorithm,
        public_key=key.public_key,
        fingerprint=key.fingerprint,
        comment=key.comment or None,
        created=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    session.add(row)
    session.flush()
    return row


def listed(session: Session, host: Host | None = None) -> list[tuple[Host, TenantKey]]:
    """(frontend, key) of every key, or of `host`'s, by frontend name then id."""
    query = select(Host, TenantKey).join(TenantKey, TenantKey.frontend_id == Host.id)
    if host is not None:
        query = query.where(Host.id == host.id)
    return [(h, k) for h, k in session.execute(query.order_by(Host.name, TenantKey.id))]


def unbind(session: Session, host: Host, key_id: int) -> TenantKey:
    found = session.execute(
        select(TenantKey).where(TenantKey.id == key_id, TenantKey.frontend_id == host.id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"{host.name} has no key with id {key_id} (see: cairn list host key {host.name})"
        )
    session.delete(found)
    return found
