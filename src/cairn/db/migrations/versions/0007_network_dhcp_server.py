"""Who serves DHCP and PXE on a network: the frontend (NULL) or, for a virtual
cluster's network, the cluster's own frontend VM ("cluster")

Revision ID: 0007_dhcp_server
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_dhcp_server"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dhcp_server", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.drop_column("dhcp_server")
