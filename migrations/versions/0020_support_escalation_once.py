"""support: one open escalation per thread, as a partial unique index

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "uq_support_escalations_open_thread",
        "support_escalations",
        ["thread_id"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )


def downgrade():
    op.drop_index("uq_support_escalations_open_thread", table_name="support_escalations")
