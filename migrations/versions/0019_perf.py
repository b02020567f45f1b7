"""performance: a covering index for the vendor dashboard's top listings

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03 07:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("product_daily_stats", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_daily_stats_figures",
            ["product_id", "day", "views", "visitors", "sales", "net_cents"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("product_daily_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_product_daily_stats_figures")
