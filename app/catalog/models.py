"""Products with their listing fields, categories, tags, revisions, transitions and views."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    func,
)
from sqlalchemy import false as sa_false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.timeutil import utcnow
from app.vendors.models import VendorProfile


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class RevisionState(enum.StrEnum):
    """An edit of a live product, reviewed on its own while the approved content stays live."""

    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"


class ProductType(enum.StrEnum):
    AI_AGENT = "ai_agent"
    N8N_WORKFLOW = "n8n_workflow"
    AUTOMATION_ASSET = "automation_asset"


class PriceType(enum.StrEnum):
    FREE = "free"
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"


class Complexity(enum.StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


TYPE_LABELS = {
    ProductType.AI_AGENT: "AI agent",
    ProductType.N8N_WORKFLOW: "n8n workflow",
    ProductType.AUTOMATION_ASSET: "Automation asset",
}
PRICE_TYPE_LABELS = {
    PriceType.FREE: "Free",
    PriceType.ONE_TIME: "One-time",
    PriceType.SUBSCRIPTION: "Subscription",
}
COMPLEXITY_LABELS = {
    Complexity.BEGINNER: "Beginner",
    Complexity.INTERMEDIATE: "Intermediate",
    Complexity.ADVANCED: "Advanced",
}
STATUS_LABELS = {
    ProductStatus.DRAFT: "Draft",
    ProductStatus.PENDING: "Pending review",
    ProductStatus.APPROVED: "Live",
    ProductStatus.CHANGES_REQUESTED: "Changes requested",
    ProductStatus.REJECTED: "Rejected",
    ProductStatus.SUSPENDED: "Suspended",
}


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The commission on sales in this category: over PLATFORM_COMMISSION_BPS, under a store's own.
    commission_bps: Mapped[int | None] = mapped_column(Integer)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="(Category.position, Category.name)"
    )

    @property
    def path(self) -> list[Category]:
        """Root first, ending with this category (a guard stops a corrupt cycle)."""
        trail: list[Category] = []
        node: Category | None = self
        while node is not None and node not in trail and len(trail) < 16:
            trail.append(node)
            node = node.parent
        return list(reversed(trail))

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


product_tags = Table(
    "product_tags",
    db.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True, index=True)


class Product(db.Model):
    """The live listing. Fields in ``LISTING_FIELDS`` are what a revision may change."""

    __tablename__ = "products"
    # The public listings filter on status and sort; these keep every list an index walk.
    __table_args__ = (
        Index("ix_products_status_popularity", "status", "popularity"),
        Index("ix_products_status_published_at", "status", "published_at"),
        Index("ix_products_category_status_popularity", "category_id", "status", "popularity"),
        Index("ix_products_vendor_status_popularity", "vendor_id", "status", "popularity"),
        # A store's rating sums its live products' ratings from this index alone.
        Index(
            "ix_products_vendor_status_rating", "vendor_id", "status", "rating_count", "rating_avg"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    slug: Mapped[str] = mapped_column(String(90), unique=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default=ProductStatus.DRAFT.value)
    # Listing content.
    title: Mapped[str] = mapped_column(String(120))
    short_description: Mapped[str] = mapped_column(String(200), default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")  # sanitised at save time
    type: Mapped[str] = mapped_column(String(20), default=ProductType.N8N_WORKFLOW.value)
    # Pricing in integer minor units.
    price_type: Mapped[str] = mapped_column(String(16), default=PriceType.FREE.value)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    monthly_price_cents: Mapped[int | None] = mapped_column(Integer)
    yearly_price_cents: Mapped[int | None] = mapped_column(Integer)
    # Media: storage keys made by the app, and an allow-listed video.
    thumbnail_key: Mapped[str | None] = mapped_column(String(255))
    screenshot_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    video_provider: Mapped[str | None] = mapped_column(String(16))
    video_id: Mapped[str | None] = mapped_column(String(32))
    preview_key: Mapped[str | None] = mapped_column(String(255))  # the workflow's SVG
    # The vendor's switch: shoppers see the screenshots with "<store> · preview" stamped into
    # the pixels. The originals stay in screenshot_keys; the stamped copies, made by a job
    # when screenshots or the switch change, are keyed by the original's key.
    watermark_screenshots: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    screenshot_marks: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    # The newest clean version the vendor published (or rolled back to); app/assets.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "product_versions.id",
            ondelete="SET NULL",
            use_alter=True,
            name="fk_products_current_version_id_product_versions",
        )
    )
    # Metadata; the n8n analysis of an uploaded workflow fills the compatibility facts.
    complexity: Mapped[str] = mapped_column(String(16), default=Complexity.BEGINNER.value)
    setup_minutes: Mapped[int | None] = mapped_column(Integer)
    requirements: Mapped[str] = mapped_column(Text, default="")
    n8n_version: Mapped[str] = mapped_column(String(20), default="")
    node_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    credentials_required: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Licence terms and policies.
    licence_commercial: Mapped[bool] = mapped_column(Boolean, default=True)
    licence_redistribution: Mapped[bool] = mapped_column(Boolean, default=False)
    licence_modification: Mapped[bool] = mapped_column(Boolean, default=True)
    support_policy: Mapped[str] = mapped_column(Text, default="")
    refund_policy: Mapped[str] = mapped_column(Text, default="")
    # Stats, kept by the domains that own the facts (views here, sales and reviews later).
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    sales_count: Mapped[int] = mapped_column(Integer, default=0)
    download_count: Mapped[int] = mapped_column(Integer, default=0)  # kept by downloads
    # Indexed only after status (every list filters on it): each counter update moves it.
    popularity: Mapped[int] = mapped_column(Integer, default=0)
    rating_avg: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    vendor: Mapped[VendorProfile] = relationship()
    category: Mapped[Category | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=product_tags, order_by=Tag.name)
    revisions: Mapped[list[ProductRevision]] = relationship(
        back_populates="product",
        order_by="ProductRevision.id",
        cascade="all, delete-orphan",
    )

    @property
    def is_free(self) -> bool:
        return self.price_type == PriceType.FREE

    @hybrid_property
    def display_price_cents(self) -> int:
        """The price a shopper compares: one-time, or the monthly (else yearly) subscription."""
        if self.price_type == PriceType.ONE_TIME:
            return self.price_cents or 0
        if self.price_type == PriceType.SUBSCRIPTION:
            return self.monthly_price_cents or self.yearly_price_cents or 0
        return 0

    @display_price_cents.inplace.expression
    @classmethod
    def _display_price_cents_expression(cls) -> ColumnElement[int]:
        # The same rule in SQL, so lists sort by the price shoppers see.
        return case(
            (cls.price_type == PriceType.ONE_TIME, cls.price_cents),
            (
                cls.price_type == PriceType.SUBSCRIPTION,
                func.coalesce(cls.monthly_price_cents, cls.yearly_price_cents, 0),
            ),
            else_=0,
        )

    @property
    def open_revision(self) -> ProductRevision | None:
        """The edit of a live product that has not been decided yet, if any."""
        for revision in reversed(self.revisions):
            if revision.state in OPEN_REVISION_STATES:
                return revision
        return None

    @property
    def shown_screenshot_keys(self) -> list[str]:
        """The screenshots shoppers see: the originals, or with the watermark on, the stamped
        copies made so far (one not stamped yet is left out, never shown bare)."""
        keys = list(self.screenshot_keys or [])
        if not self.watermark_screenshots:
            return keys
        marks = self.screenshot_marks or {}
        return [marks[key] for key in keys if key in marks]

    @property
    def video_embed_url(self) -> str | None:
        if self.video_provider == "youtube":
            return f"https://www.youtube-nocookie.com/embed/{self.video_id}"
        if self.video_provider == "vimeo":
            return f"https://player.vimeo.com/video/{self.video_id}"
        return None

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.slug} {self.status}>"


OPEN_REVISION_STATES = frozenset(
    {RevisionState.DRAFT, RevisionState.PENDING, RevisionState.CHANGES_REQUESTED}
)


class ProductRevision(db.Model):
    """Proposed listing content for a live product; ``data`` holds LISTING_FIELDS values."""

    __tablename__ = "product_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20), default=RevisionState.DRAFT.value, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    product: Mapped[Product] = relationship(back_populates="revisions")


class ProductTransition(db.Model):
    """Every status change of a product or of one of its revisions: who, when, why."""

    __tablename__ = "product_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_revisions.id", ondelete="SET NULL")
    )
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    actor = relationship("User")


class ProductView(db.Model):
    """One row per product, visitor and day; visitor and address are keyed daily hashes (of
    the account or network, and of the network it came from), never an IP."""

    __tablename__ = "product_views"
    __table_args__ = (
        UniqueConstraint("product_id", "day", "visitor"),
        # How many views one address added to a product that day (pageviews.VIEWS_PER_ADDRESS).
        Index("ix_product_views_product_day_address", "product_id", "day", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, index=True)
    visitor: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(32), server_default="")
    # The referring site's host name ("" for none or this site), for vendor analytics.
    referrer: Mapped[str] = mapped_column(String(100), server_default="")
