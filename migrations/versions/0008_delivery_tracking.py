"""outbox: events are pending until delivered; deliveries can fail

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-02 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index("ix_events_dispatched_at")
        batch_op.create_index("ix_events_delivered_at", ["delivered_at"], unique=False)
    # Events dispatched before this revision count as delivered, as they did then: the old
    # outbox kept no record to tell a delivered event from a lost one.
    op.execute("UPDATE events SET delivered_at = dispatched_at WHERE dispatched_at IS NOT NULL")

    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "delivered_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.create_index("ix_event_deliveries_failed_at", ["failed_at"], unique=False)


def downgrade():
    op.execute("DELETE FROM event_deliveries WHERE delivered_at IS NULL")
    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_event_deliveries_failed_at")
        batch_op.drop_column("error")
        batch_op.drop_column("failed_at")
        batch_op.alter_column(
            "delivered_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_delivered_at")
        batch_op.create_index("ix_events_dispatched_at", ["dispatched_at"], unique=False)
        batch_op.drop_column("delivered_at")
