"""licensing: the download log and the products' download counter

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products") as batch:
        batch.add_column(
            sa.Column("download_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "download_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version_label", sa.String(length=40), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licences.id"],
            name=op.f("fk_download_logs_licence_id_licences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_download_logs_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_download_logs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_logs")),
    )
    op.create_index(op.f("ix_download_logs_user_id"), "download_logs", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_download_logs_licence_id"), "download_logs", ["licence_id"], unique=False
    )
    op.create_index(
        "ix_download_logs_product_created",
        "download_logs",
        ["product_id", "created_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_download_logs_product_created", table_name="download_logs")
    op.drop_index(op.f("ix_download_logs_licence_id"), table_name="download_logs")
    op.drop_index(op.f("ix_download_logs_user_id"), table_name="download_logs")
    op.drop_table("download_logs")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("download_count")
