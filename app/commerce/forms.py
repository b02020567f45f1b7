"""Cart, discount code, checkout and refund forms (every POST carries CSRF)."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import MAX_ID, Form, MoneyField, MultiCheckboxField, options

INTERVALS = [("", "Default"), ("month", "Monthly"), ("year", "Yearly")]


class AddToCartForm(Form):
    product_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    # Anything the form does not offer is refused; prices and quantities are never read.
    interval = SelectField(choices=options(INTERVALS), validators=[Optional()], default="")


class DiscountCodeForm(Form):
    code = StringField("Discount code", validators=[DataRequired(), Length(max=40)])


class RefundForm(Form):
    """A refund gives money back: a reason (kept with the refund and in the audit log) and an
    explicit confirmation."""

    line_id = HiddenField()  # empty: the whole order
    reason = TextAreaField(
        "Reason (kept with the refund)",
        validators=[DataRequired("Give a reason."), Length(max=500)],
    )
    confirm = BooleanField(
        "I have checked this and want to refund",
        validators=[DataRequired("Tick the box to confirm.")],
    )

    def line(self) -> int | None:
        raw = (self.line_id.data or "").strip()
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
            return int(raw)
        return None


class DiscountCreateForm(Form):
    code = StringField("Code", validators=[DataRequired(), Length(min=3, max=40)])
    kind = SelectField(
        "Kind",
        choices=options([("percent", "Percentage off"), ("fixed", "Amount off")]),
        default="percent",
    )
    value = MoneyField("Value (a percentage, or an amount in the product's currency)")
    products = MultiCheckboxField("Products (none ticked: all of your products)", choices=[])
    ends_on = DateField("Last day (optional)", validators=[Optional()])
    max_uses = IntegerField(
        "Maximum uses (optional)", validators=[Optional(), NumberRange(min=1, max=1_000_000)]
    )
