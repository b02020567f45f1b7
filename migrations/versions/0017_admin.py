"""admin: a vendor-level hold on payouts (flag, reason, since when)

Revision ID: 0017
Revises: 0018
Create Date: 2026-12-03 07:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("vendor_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payouts_held", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("payouts_held_reason", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("payouts_held_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("vendor_profiles", schema=None) as batch_op:
        batch_op.drop_column("payouts_held_at")
        batch_op.drop_column("payouts_held_reason")
        batch_op.drop_column("payouts_held")
