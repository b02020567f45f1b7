"""Listing forms (on the shared base: CSRF, form data only, cleaned text, plain amounts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf.file import FileAllowed, FileField, MultipleFileField
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.catalog.content import video_url
from app.catalog.listings import CURRENCIES
from app.catalog.models import TYPE_LABELS, Complexity, PriceType
from app.catalog.review import REASON_CODES
from app.forms import Form, MoneyField, MultiCheckboxField, options

_IMAGES = FileAllowed(["png", "jpg", "jpeg", "webp", "gif"], "Images only (PNG, JPEG, WebP, GIF).")
_PRICE = [Optional(), NumberRange(min=Decimal("0.50"), max=Decimal("100000"))]


def split_list(text: str | None) -> list[str]:
    """Comma- or line-separated values from a text field."""
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


def cents(value: Decimal | None) -> int | None:
    return int((value * 100).to_integral_value()) if value is not None else None


def money(value: int | None) -> Decimal | None:
    return (Decimal(value) / 100).quantize(Decimal("0.01")) if value else None


class ListingForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=120)])
    short_description = StringField("Short description", validators=[Optional(), Length(max=200)])
    description_md = TextAreaField(
        "Description (Markdown)", validators=[Optional(), Length(max=20_000)]
    )
    type = SelectField("Type", choices=options((k.value, v) for k, v in TYPE_LABELS.items()))
    category_id = SelectField("Category", coerce=int, validators=[Optional()])
    tags = StringField("Tags (comma-separated, up to 10)", validators=[Optional(), Length(max=500)])
    price_type = SelectField(
        "Pricing",
        choices=options(
            [
                (PriceType.FREE.value, "Free"),
                (PriceType.ONE_TIME.value, "One-time purchase"),
                (PriceType.SUBSCRIPTION.value, "Subscription"),
            ]
        ),
    )
    currency = SelectField("Currency", choices=options((c, c) for c in CURRENCIES))
    price = MoneyField("One-time price", validators=_PRICE)
    monthly_price = MoneyField("Monthly price", validators=_PRICE)
    yearly_price = MoneyField("Yearly price", validators=_PRICE)
    thumbnail = FileField("Thumbnail image", validators=[_IMAGES])
    screenshots = MultipleFileField("Add screenshots", validators=[_IMAGES])
    remove_screenshots = MultiCheckboxField("Remove screenshots", choices=[])
    video_url = StringField(
        "Demo video (YouTube or Vimeo link)", validators=[Optional(), Length(max=300)]
    )
    complexity = SelectField(
        "Complexity", choices=options((c.value, c.value.title()) for c in Complexity)
    )
    setup_minutes = IntegerField(
        "Setup time (minutes)", validators=[Optional(), NumberRange(min=0, max=10_000)]
    )
    requirements = TextAreaField("Requirements", validators=[Optional(), Length(max=5_000)])
    n8n_version = StringField(
        "Minimum n8n version",
        validators=[
            Optional(),
            Regexp(r"^\d{1,2}\.\d{1,3}(\.\d{1,3})?$", message="Like 1.42 or 1.42.1."),
        ],
    )
    node_types = TextAreaField("Nodes used", validators=[Optional(), Length(max=5_000)])
    credentials_required = TextAreaField(
        "Credentials needed", validators=[Optional(), Length(max=2_000)]
    )
    licence_commercial = BooleanField("Buyers may use it commercially")
    licence_redistribution = BooleanField("Buyers may redistribute it")
    licence_modification = BooleanField("Buyers may modify it")
    support_policy = TextAreaField("Support policy", validators=[Optional(), Length(max=5_000)])
    refund_policy = TextAreaField("Refund policy", validators=[Optional(), Length(max=5_000)])

    def fill(self, values: dict[str, Any]) -> None:
        """Show stored listing values (a GET of the edit page)."""
        for name in (
            "title", "short_description", "description_md", "type", "category_id",
            "price_type", "currency", "complexity", "setup_minutes", "requirements",
            "n8n_version", "licence_commercial", "licence_redistribution",
            "licence_modification", "support_policy", "refund_policy",
        ):  # fmt: skip
            getattr(self, name).data = values.get(name)
        self.tags.data = ", ".join(values.get("tags") or [])
        self.node_types.data = "\n".join(values.get("node_types") or [])
        self.credentials_required.data = "\n".join(values.get("credentials_required") or [])
        self.price.data = money(values.get("price_cents"))
        self.monthly_price.data = money(values.get("monthly_price_cents"))
        self.yearly_price.data = money(values.get("yearly_price_cents"))
        self.video_url.data = video_url(values.get("video_provider"), values.get("video_id"))

    def values(self) -> dict[str, Any]:
        """The submitted listing fields (media keys and video are added by the view)."""
        return {
            "title": self.title.data.strip(),
            "short_description": (self.short_description.data or "").strip(),
            "description_md": self.description_md.data or "",
            "type": self.type.data,
            "category_id": self.category_id.data or None,
            "tags": split_list(self.tags.data),
            "price_type": self.price_type.data,
            "currency": self.currency.data,
            "price_cents": cents(self.price.data) or 0,
            "monthly_price_cents": cents(self.monthly_price.data),
            "yearly_price_cents": cents(self.yearly_price.data),
            "complexity": self.complexity.data,
            "setup_minutes": self.setup_minutes.data,
            "requirements": (self.requirements.data or "").strip(),
            "n8n_version": (self.n8n_version.data or "").strip(),
            "node_types": split_list(self.node_types.data),
            "credentials_required": split_list(self.credentials_required.data),
            "licence_commercial": bool(self.licence_commercial.data),
            "licence_redistribution": bool(self.licence_redistribution.data),
            "licence_modification": bool(self.licence_modification.data),
            "support_policy": (self.support_policy.data or "").strip(),
            "refund_policy": (self.refund_policy.data or "").strip(),
        }


class DecisionForm(Form):
    """A moderator's decision: reason codes and a note the vendor will read."""

    reason_codes = MultiCheckboxField("Reasons", choices=options(REASON_CODES.items()))
    note = TextAreaField("Note to the vendor", validators=[Optional(), Length(max=2_000)])


class CategoryForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    parent_id = SelectField("Parent", coerce=int, validators=[Optional()])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2_000)])
    position = IntegerField(
        "Position", default=0, validators=[Optional(), NumberRange(min=0, max=10_000)]
    )


class WatermarkForm(Form):
    """The vendor's switch for watermarked screenshots on the listing's page."""

    enabled = BooleanField("Stamp my store's name and “preview” across the screenshots")
