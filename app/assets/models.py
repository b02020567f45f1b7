"""Product versions: each uploaded file of a listing, its scan results and its place in history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow


class VersionStatus(enum.StrEnum):
    QUARANTINED = "quarantined"  # stored, not scanned yet
    SCANNING = "scanning"
    WAITING = "waiting"  # the scanner is unreachable (or not configured in production)
    CLEAN = "clean"
    INFECTED = "infected"
    REJECTED = "rejected"  # not a file we accept (an unsafe zip, a broken workflow)
    ERROR = "error"  # the scan failed or was cut off: never clean


FINAL_STATUSES = frozenset(
    {VersionStatus.CLEAN, VersionStatus.INFECTED, VersionStatus.REJECTED, VersionStatus.ERROR}
)
STATUS_LABELS = {
    VersionStatus.QUARANTINED: "Quarantined, waiting for its scan",
    VersionStatus.SCANNING: "Scanning",
    VersionStatus.WAITING: "Waiting for scanner",
    VersionStatus.CLEAN: "Clean",
    VersionStatus.INFECTED: "Infected",
    VersionStatus.REJECTED: "Rejected",
    VersionStatus.ERROR: "Scan failed",
}
NO_SCANNER = "not virus-scanned (no scanner configured)"


class ProductVersion(db.Model):
    """One uploaded file of a product. The file sits in storage under its content hash; the
    vendor's filename is metadata only. ``findings`` hold a secret's kind and place, never
    its value."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(40))
    changelog_md: Mapped[str] = mapped_column(Text, default="")
    changelog_html: Mapped[str] = mapped_column(Text, default="")  # sanitised at save time
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(
        String(16), default=VersionStatus.QUARANTINED.value, index=True
    )
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    findings_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scanner: Mapped[str] = mapped_column(String(120), default="")
    scan_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    publish_when_clean: Mapped[bool] = mapped_column(Boolean, default=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    yanked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    yank_reason: Mapped[str] = mapped_column(Text, default="")
    preview_key: Mapped[str | None] = mapped_column(String(255))
    redacted_key: Mapped[str | None] = mapped_column(String(255))
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    product = relationship("Product", foreign_keys=[product_id])
    uploader = relationship("User")

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_clean(self) -> bool:
        return self.status == VersionStatus.CLEAN

    @property
    def is_yanked(self) -> bool:
        return self.yanked_at is not None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(VersionStatus(self.status), self.status)

    @property
    def needs_acknowledgement(self) -> bool:
        """Findings the vendor has neither fixed (a new version) nor acknowledged."""
        return bool(self.findings) and self.findings_acknowledged_at is None

    def __repr__(self) -> str:
        return f"<ProductVersion {self.id} {self.label} {self.status}>"
