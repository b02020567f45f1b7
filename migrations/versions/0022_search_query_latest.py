"""search: searches indexed by text and time, so a result click finds the latest search of
its text in one index step (the text-only index is covered by the new one)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 14:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("search_queries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_queries_query_created_at", ["query", "created_at"], unique=False
        )
        batch_op.drop_index("ix_search_queries_query")


def downgrade():
    with op.batch_alter_table("search_queries", schema=None) as batch_op:
        batch_op.create_index("ix_search_queries_query", ["query"], unique=False)
        batch_op.drop_index("ix_search_queries_query_created_at")
