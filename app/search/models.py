"""Search tables: analytics (searches, clicks), similar products, the PostgreSQL index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class SearchQuery(db.Model):
    """One search as typed (normalised), with its result count and filters."""

    __tablename__ = "search_queries"
    # A click finds the latest search of its text (services.record_click) in one index step.
    __table_args__ = (Index("ix_search_queries_query_created_at", "query", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
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
# tables are then unused, but the schema is the same on every database).
TSVECTOR = Text().with_variant(postgresql.TSVECTOR(), "postgresql")
SLUGS = JSON().with_variant(postgresql.ARRAY(String(80)), "postgresql")


class SearchDocument(db.Model):
    """A product as the PostgreSQL backend matches, counts and sorts it (SEARCH_BACKEND=postgres).

    Kept narrow, because a broad word's facets are counted over every matching row: the
    facet values are one ``cell`` number (a row of ``search_cells``), the words are stripped
    vectors (lexemes only), and what a result card shows lives in ``search_cards``."""

    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        Index("ix_search_documents_title_tsv", "title_tsv", postgresql_using="gin"),
        Index("ix_search_documents_keywords_tsv", "keywords_tsv", postgresql_using="gin"),
    )

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell: Mapped[int] = mapped_column(Integer)  # search_cells.cell, no foreign key: derived
    tsv: Mapped[str] = mapped_column(TSVECTOR)  # every field's lexemes: matching
    title_tsv: Mapped[str] = mapped_column(TSVECTOR)  # the title's: ranking
    keywords_tsv: Mapped[str] = mapped_column(TSVECTOR)  # tags, nodes, services'
    price: Mapped[int] = mapped_column(BigInteger)
    rating: Mapped[int] = mapped_column(Integer)
    popularity: Mapped[int] = mapped_column(BigInteger)
    published: Mapped[int] = mapped_column(BigInteger)


# The sorts, each walked in its order with the match as a filter when the match is broad.
_D = SearchDocument
Index("ix_search_documents_popular", _D.popularity.desc(), _D.product_id)
Index("ix_search_documents_newest", _D.published.desc())
Index("ix_search_documents_rating", _D.rating.desc())
Index("ix_search_documents_price_asc", _D.price, _D.popularity.desc(), _D.product_id)
Index("ix_search_documents_price_desc", _D.price.desc(), _D.popularity.desc(), _D.product_id)


class SearchCell(db.Model):
    """One combination of facet values some product has: its type, price type and bucket,
    complexity, rating bucket and category path. A few thousand rows at most; never removed,
    so a number keeps its meaning (a writer keeps the numbers it read for a whole write)."""

    __tablename__ = "search_cells"
    __table_args__ = (
        UniqueConstraint(
            "type",
            "price_type",
            "price_bucket",
            "complexity",
            "rating_bucket",
            "category_path",
            name="uq_search_cells_values",
        ),
    )

    cell: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    price_type: Mapped[str] = mapped_column(String(16))
    price_bucket: Mapped[str] = mapped_column(String(16))
    complexity: Mapped[str] = mapped_column(String(16))
    rating_bucket: Mapped[str] = mapped_column(String(8))
    category_path: Mapped[list[str]] = mapped_column(SLUGS)


class SearchCategory(db.Model):
    """A category's name as the category facet shows it (the latest indexed wins)."""

    __tablename__ = "search_categories"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class SearchCard(db.Model):
    """What a result shows of a product, and its title and tag words for similarity."""

    __tablename__ = "search_cards"
    __table_args__ = (
        Index(
            "ix_search_cards_words",
            "words",
            postgresql_using="gist",  # nearest first (<->) needs GiST
            postgresql_ops={"words": "gist_trgm_ops"},
        ),
    )

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    words: Mapped[str] = mapped_column(Text, default="")
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
