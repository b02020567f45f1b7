"""search analytics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("sort", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_queries")),
    )
    with op.batch_alter_table("search_queries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_queries_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_search_queries_query"), ["query"], unique=False)

    op.create_table(
        "search_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("search_query_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["search_query_id"],
            ["search_queries.id"],
            name=op.f("fk_search_clicks_search_query_id_search_queries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_clicks")),
    )
    with op.batch_alter_table("search_clicks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_clicks_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_search_clicks_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_search_clicks_search_query_id"), ["search_query_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("search_clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_clicks_search_query_id"))
        batch_op.drop_index(batch_op.f("ix_search_clicks_product_id"))
        batch_op.drop_index(batch_op.f("ix_search_clicks_created_at"))

    op.drop_table("search_clicks")
    with op.batch_alter_table("search_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_queries_query"))
        batch_op.drop_index(batch_op.f("ix_search_queries_created_at"))

    op.drop_table("search_queries")
