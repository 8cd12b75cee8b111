"""Interface fields Rocks has: the host name on the interface, the kernel
module, and disablekvm (kept in the database, left out of the VM's domain)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interfaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hostname", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("module", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("disablekvm", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("interfaces", schema=None) as batch_op:
        batch_op.drop_column("disablekvm")
        batch_op.drop_column("module")
        batch_op.drop_column("hostname")
