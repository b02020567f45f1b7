"""product views remember the address they came from, to cap views per address

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("product_views", schema=None) as batch_op:
        # Rows from before have no address: each counts as its own.
        batch_op.add_column(
            sa.Column("address", sa.String(length=32), server_default="", nullable=False)
        )
        batch_op.create_index(
            "ix_product_views_product_day_address", ["product_id", "day", "address"], unique=False
        )


def downgrade():
    with op.batch_alter_table("product_views", schema=None) as batch_op:
        batch_op.drop_index("ix_product_views_product_day_address")
        batch_op.drop_column("address")
