"""search: the PostgreSQL index narrowed for counting (facet cells, stripped vectors, cards
apart); existing PostgreSQL rows are carried over, so no reindex is needed

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 11:30:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TSVECTOR = sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")
SLUGS = sa.JSON().with_variant(postgresql.ARRAY(sa.String(length=80)), "postgresql")
OLD_INDEXES = ("ix_search_documents_tsv", "ix_search_documents_words")


def _documents_table():
    op.create_table(
        "search_documents",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("cell", sa.Integer(), nullable=False),
        sa.Column("tsv", TSVECTOR, nullable=False),
        sa.Column("title_tsv", TSVECTOR, nullable=False),
        sa.Column("keywords_tsv", TSVECTOR, nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("popularity", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_documents")),
    )
    for column in ("tsv", "title_tsv", "keywords_tsv"):
        op.create_index(
            f"ix_search_documents_{column}", "search_documents", [column], postgresql_using="gin"
        )
    op.create_index(
        "ix_search_documents_popular",
        "search_documents",
        [sa.text("popularity DESC"), "product_id"],
    )
    op.create_index("ix_search_documents_newest", "search_documents", [sa.text("published DESC")])
    op.create_index("ix_search_documents_rating", "search_documents", [sa.text("rating DESC")])
    op.create_index(
        "ix_search_documents_price_asc",
        "search_documents",
        ["price", sa.text("popularity DESC"), "product_id"],
    )
    op.create_index(
        "ix_search_documents_price_desc",
        "search_documents",
        [sa.text("price DESC"), sa.text("popularity DESC"), "product_id"],
    )


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in OLD_INDEXES:
        op.drop_index(name, table_name="search_documents")
    if postgres:  # kept until its rows are copied below
        op.execute("ALTER TABLE search_documents RENAME TO search_documents_0020")
        op.execute("ALTER INDEX pk_search_documents RENAME TO pk_search_documents_0020")
    else:  # the PostgreSQL backend's table: never used on other databases
        op.drop_table("search_documents")
    op.create_table(
        "search_cells",
        sa.Column("cell", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("price_type", sa.String(length=16), nullable=False),
        sa.Column("price_bucket", sa.String(length=16), nullable=False),
        sa.Column("complexity", sa.String(length=16), nullable=False),
        sa.Column("rating_bucket", sa.String(length=8), nullable=False),
        sa.Column("category_path", SLUGS, nullable=False),
        sa.PrimaryKeyConstraint("cell", name=op.f("pk_search_cells")),
        sa.UniqueConstraint(
            "type",
            "price_type",
            "price_bucket",
            "complexity",
            "rating_bucket",
            "category_path",
            name="uq_search_cells_values",
        ),
    )
    op.create_table(
        "search_categories",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_search_categories")),
    )
    op.create_table(
        "search_cards",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_cards")),
    )
    op.create_index(
        "ix_search_cards_words",
        "search_cards",
        ["words"],
        postgresql_using="gist",
        postgresql_ops={"words": "gist_trgm_ops"},
    )
    _documents_table()
    if not postgres:
        return
    # The old rows in the new shape: title (A) and keyword (B) lexemes filtered out of the
    # weighted vector, every vector stripped of positions, the facet values as cells.
    op.execute(
        """
        INSERT INTO search_cells (type, price_type, price_bucket, complexity, rating_bucket,
            category_path)
        SELECT DISTINCT type, price_type, price_bucket, complexity, rating_bucket, category_path
        FROM search_documents_0020
        """
    )
    op.execute(
        """
        INSERT INTO search_categories (slug, name)
        SELECT DISTINCT ON (key) key, value
        FROM search_documents_0020, json_each_text(category_names)
        ORDER BY key
        """
    )
    op.execute(
        """
        INSERT INTO search_cards (product_id, words, card)
        SELECT product_id, words, card FROM search_documents_0020
        """
    )
    op.execute(
        """
        INSERT INTO search_documents (product_id, cell, tsv, title_tsv, keywords_tsv, price,
            rating, popularity, published)
        SELECT d.product_id, c.cell, strip(d.tsv), strip(ts_filter(d.tsv, '{a}')),
            strip(ts_filter(d.tsv, '{b}')), d.price, d.rating, d.popularity, d.published
        FROM search_documents_0020 d
        JOIN search_cells c USING (type, price_type, price_bucket, complexity, rating_bucket,
            category_path)
        """
    )
    op.execute("DROP TABLE search_documents_0020")


def downgrade():
    # Derived data: the old shape comes back empty (`flask search reindex` fills it).
    op.drop_table("search_documents")
    op.drop_index("ix_search_cards_words", table_name="search_cards")
    op.drop_table("search_cards")
    op.drop_table("search_categories")
    op.drop_table("search_cells")
    op.create_table(
        "search_documents",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("tsv", TSVECTOR, nullable=True),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("price_type", sa.String(length=16), nullable=False),
        sa.Column("price_bucket", sa.String(length=16), nullable=False),
        sa.Column("complexity", sa.String(length=16), nullable=False),
        sa.Column("rating_bucket", sa.String(length=8), nullable=False),
        sa.Column("category_path", SLUGS, nullable=False),
        sa.Column("category_names", sa.JSON(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("popularity", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_documents")),
    )
    op.create_index("ix_search_documents_tsv", "search_documents", ["tsv"], postgresql_using="gin")
    op.create_index(
        "ix_search_documents_words",
        "search_documents",
        ["words"],
        postgresql_using="gist",
        postgresql_ops={"words": "gist_trgm_ops"},
    )
