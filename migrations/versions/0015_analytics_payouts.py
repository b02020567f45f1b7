"""vendor analytics (daily aggregates, sources, page view referrers) and payouts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 18:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("product_views", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("referrer", sa.String(length=100), server_default="", nullable=False)
        )
    op.create_table(
        "product_daily_stats",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_daily_stats_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor_profiles.id"],
            name=op.f("fk_product_daily_stats_vendor_id_vendor_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "day", name=op.f("pk_product_daily_stats")),
    )
    op.create_index(op.f("ix_product_daily_stats_day"), "product_daily_stats", ["day"])
    op.create_index(op.f("ix_product_daily_stats_vendor_id"), "product_daily_stats", ["vendor_id"])
    op.create_table(
        "product_daily_sources",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_daily_sources_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor_profiles.id"],
            name=op.f("fk_product_daily_sources_vendor_id_vendor_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "product_id", "day", "kind", "value", name=op.f("pk_product_daily_sources")
        ),
    )
    op.create_index(op.f("ix_product_daily_sources_day"), "product_daily_sources", ["day"])
    op.create_index(
        op.f("ix_product_daily_sources_vendor_id"), "product_daily_sources", ["vendor_id"]
    )
    op.create_table(
        "vendor_daily_stats",
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor_profiles.id"],
            name=op.f("fk_vendor_daily_stats_vendor_id_vendor_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vendor_id", "day", "currency", name=op.f("pk_vendor_daily_stats")),
    )
    op.create_index(op.f("ix_vendor_daily_stats_day"), "vendor_daily_stats", ["day"])
    op.create_table(
        "vendor_daily_sources",
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor_profiles.id"],
            name=op.f("fk_vendor_daily_sources_vendor_id_vendor_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "vendor_id", "day", "kind", "value", name=op.f("pk_vendor_daily_sources")
        ),
    )
    op.create_index(op.f("ix_vendor_daily_sources_day"), "vendor_daily_sources", ["day"])
    op.create_table(
        "payout_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=64), nullable=True),
        sa.Column("bank_details_encrypted", sa.Text(), nullable=True),
        sa.Column("bank_last4", sa.String(length=4), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor_profiles.id"],
            name=op.f("fk_payout_accounts_vendor_id_vendor_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_accounts")),
        sa.UniqueConstraint("vendor_id", name=op.f("uq_payout_accounts_vendor_id")),
    )
    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("txn", sa.String(length=64), nullable=False),
        sa.Column("provider_ref", sa.String(length=255), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["users.id"],
            name=op.f("fk_payouts_sent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor_profiles.id"],
            name=op.f("fk_payouts_vendor_id_vendor_profiles"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("txn", name=op.f("uq_payouts_txn")),
    )
    op.create_index(op.f("ix_payouts_status"), "payouts", ["status"])
    op.create_index(op.f("ix_payouts_vendor_id"), "payouts", ["vendor_id"])


def downgrade():
    op.drop_index(op.f("ix_payouts_vendor_id"), table_name="payouts")
    op.drop_index(op.f("ix_payouts_status"), table_name="payouts")
    op.drop_table("payouts")
    op.drop_table("payout_accounts")
    op.drop_index(op.f("ix_vendor_daily_sources_day"), table_name="vendor_daily_sources")
    op.drop_table("vendor_daily_sources")
    op.drop_index(op.f("ix_vendor_daily_stats_day"), table_name="vendor_daily_stats")
    op.drop_table("vendor_daily_stats")
    op.drop_index(op.f("ix_product_daily_sources_vendor_id"), table_name="product_daily_sources")
    op.drop_index(op.f("ix_product_daily_sources_day"), table_name="product_daily_sources")
    op.drop_table("product_daily_sources")
    op.drop_index(op.f("ix_product_daily_stats_vendor_id"), table_name="product_daily_stats")
    op.drop_index(op.f("ix_product_daily_stats_day"), table_name="product_daily_stats")
    op.drop_table("product_daily_stats")
    with op.batch_alter_table("product_views", schema=None) as batch_op:
        batch_op.drop_column("referrer")
