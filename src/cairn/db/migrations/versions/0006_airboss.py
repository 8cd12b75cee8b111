"""The Airboss: tenant keys, seen nonces, audit log

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("frontend_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("comment", sa.String(length=255), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["frontend_id"],
            ["hosts.id"],
            name="fk_tenant_keys_frontend_id_hosts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tenant_keys"),
        sa.UniqueConstraint(
            "frontend_id", "fingerprint", name="uq_tenant_keys_frontend_fingerprint"
        ),
    )
    op.create_index("ix_tenant_keys_fingerprint", "tenant_keys", ["fingerprint"])
    op.create_table(
        "airboss_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_airboss_nonces"),
    )
    op.create_index("ix_airboss_nonces_seen", "airboss_nonces", ["seen"])
    op.create_table(
        "airboss_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("op", sa.String(length=32), nullable=True),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_airboss_audit"),
    )
    op.create_index("ix_airboss_audit_at", "airboss_audit", ["at"])
    op.create_index("ix_airboss_audit_fingerprint", "airboss_audit", ["fingerprint"])


def downgrade() -> None:
    op.drop_table("airboss_audit")
    op.drop_table("airboss_nonces")
    op.drop_table("tenant_keys")
