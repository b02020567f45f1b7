"""assets: product versions (uploaded files, scan results, history); a product's current version

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02 18:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "product_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("changelog_md", sa.Text(), nullable=False),
        sa.Column("changelog_html", sa.Text(), nullable=False),
        sa.Column("uploader_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("findings_acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scanner", sa.String(length=120), nullable=False),
        sa.Column("scan_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("publish_when_clean", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("yanked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("yank_reason", sa.Text(), nullable=False),
        sa.Column("preview_key", sa.String(length=255), nullable=True),
        sa.Column("redacted_key", sa.String(length=255), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_versions_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"],
            ["users.id"],
            name=op.f("fk_product_versions_uploader_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_versions")),
        sa.UniqueConstraint("product_id", "label", name=op.f("uq_product_versions_product_id")),
    )
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_versions_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_product_versions_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_product_versions_storage_key"), ["storage_key"], unique=False
        )

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_version_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_products_current_version_id_product_versions",
            "product_versions",
            ["current_version_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_products_current_version_id_product_versions", type_="foreignkey"
        )
        batch_op.drop_column("current_version_id")

    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_versions_storage_key"))
        batch_op.drop_index(batch_op.f("ix_product_versions_status"))
        batch_op.drop_index(batch_op.f("ix_product_versions_product_id"))

    op.drop_table("product_versions")
