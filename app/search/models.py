"""Search tables: analytics (searches, clicks), similar products, the PostgreSQL index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class SearchQuery(db.Model):
    """One search as typed (normalised), with its result count and filters."""

    __tablename__ = "search_queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200), index=True)
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sort: Mapped[str] = mapped_column(String(20), default="relevance")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class SearchClick(db.Model):
    """A result opened from a search results page."""

    __tablename__ = "search_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    search_query_id: Mapped[int | None] = mapped_column(
        ForeignKey("search_queries.id", ondelete="SET NULL"), index=True
    )
    # No foreign key: analytics outlive products and must not block or cascade catalog changes.
    product_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class SimilarProduct(db.Model):
    """A product's similar products, best first, worked out when it was indexed."""

    __tablename__ = "search_similar"

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign keys: derived data, rebuilt at will; the lookup joins products on sale.
    similar_id: Mapped[int] = mapped_column(Integer)


# PostgreSQL's types where the PostgreSQL backend needs them; plain columns elsewhere (the
# table is then unused, but the schema is the same on every database).
TSVECTOR = Text().with_variant(postgresql.TSVECTOR(), "postgresql")
SLUGS = JSON().with_variant(postgresql.ARRAY(String(80)), "postgresql")


class SearchDocument(db.Model):
    """A product as the PostgreSQL backend indexes it (SEARCH_BACKEND=postgres)."""

    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        Index(
            "ix_search_documents_words",
            "words",
            postgresql_using="gist",  # nearest first (<->) needs GiST
            postgresql_ops={"words": "gist_trgm_ops"},
        ),
    )

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Title A, tags and node types B, descriptions C (see PostgresBackend.index).
    tsv: Mapped[str | None] = mapped_column(TSVECTOR)
    words: Mapped[str] = mapped_column(Text, default="")  # title and tag words: similarity
    type: Mapped[str] = mapped_column(String(32))
    price_type: Mapped[str] = mapped_column(String(16))
    price_bucket: Mapped[str] = mapped_column(String(16))
    complexity: Mapped[str] = mapped_column(String(16))
    rating_bucket: Mapped[str] = mapped_column(String(8))
    category_path: Mapped[list[str]] = mapped_column(SLUGS)
    category_names: Mapped[dict[str, str]] = mapped_column(JSON)
    price: Mapped[int] = mapped_column(BigInteger)
    rating: Mapped[int] = mapped_column(Integer)
    popularity: Mapped[int] = mapped_column(BigInteger)
    published: Mapped[int] = mapped_column(BigInteger)
    card: Mapped[dict[str, Any]] = mapped_column(JSON)


class SearchWord(db.Model):
    """A title or tag word of the PostgreSQL index: the dictionary for "did you mean"."""

    __tablename__ = "search_words"
    __table_args__ = (
        Index(
            "ix_search_words_word_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )

    word: Mapped[str] = mapped_column(String(100), primary_key=True)
