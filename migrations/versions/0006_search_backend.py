"""search backend: similar products, the PostgreSQL full-text index

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-02 12:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None

TSVECTOR = sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")
SLUGS = sa.JSON().with_variant(postgresql.ARRAY(sa.String(length=80)), "postgresql")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Trigram similarity: did-you-mean and similar products (ships with PostgreSQL).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "search_similar",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("similar_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "position", name=op.f("pk_search_similar")),
    )
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
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    op.create_index(
        "ix_search_words_word_trgm",
        "search_words",
        ["word"],
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )


def downgrade():
    op.drop_index("ix_search_words_word_trgm", table_name="search_words")
    op.drop_table("search_words")
    op.drop_index("ix_search_documents_words", table_name="search_documents")
    op.drop_index("ix_search_documents_tsv", table_name="search_documents")
    op.drop_table("search_documents")
    op.drop_table("search_similar")
