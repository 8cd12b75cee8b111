"""Network isolation (VLAN/VXLAN) and DHCP, boot actions, virtual clusters

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("isolation", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("isolation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("carrier_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("dhcp", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("dhcp_range", sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(
            "fk_networks_carrier_id_networks",
            "networks",
            ["carrier_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_unique_constraint("uq_networks_isolation_id", ["isolation", "isolation_id"])
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("boot", sa.String(length=8), nullable=True))
    op.create_table(
        "bootactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("kernel", sa.String(length=4096), nullable=False),
        sa.Column("ramdisk", sa.String(length=4096), nullable=True),
        sa.Column("args", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bootactions"),
        sa.UniqueConstraint("name", name="uq_bootactions_name"),
    )
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("frontend_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name="fk_clusters_network_id_networks",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["frontend_id"],
            ["hosts.id"],
            name="fk_clusters_frontend_id_hosts",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clusters"),
        sa.UniqueConstraint("name", name="uq_clusters_name"),
        sa.UniqueConstraint("frontend_id", name="uq_clusters_frontend_id"),
    )
    with op.batch_alter_table("vms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_vms_cluster_id_clusters", "clusters", ["cluster_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("vms", schema=None) as batch_op:
        batch_op.drop_constraint("fk_vms_cluster_id_clusters", type_="foreignkey")
        batch_op.drop_column("cluster_id")
    op.drop_table("clusters")
    op.drop_table("bootactions")
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("boot")
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_networks_isolation_id", type_="unique")
        batch_op.drop_constraint("fk_networks_carrier_id_networks", type_="foreignkey")
        batch_op.drop_column("dhcp_range")
        batch_op.drop_column("dhcp")
        batch_op.drop_column("carrier_id")
        batch_op.drop_column("isolation_id")
        batch_op.drop_column("isolation")
