"""store rating index; no popularity-only index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        # Every listing filters on status first: (status, popularity) and its siblings serve
        # them, and this one only cost a write per page-view batch.
        batch_op.drop_index("ix_products_popularity")
        batch_op.create_index(
            "ix_products_vendor_status_rating",
            ["vendor_id", "status", "rating_count", "rating_avg"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_vendor_status_rating")
        batch_op.create_index("ix_products_popularity", ["popularity"], unique=False)
