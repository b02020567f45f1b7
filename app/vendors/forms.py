"""The application to sell, the admin's decline form, payout details and payout actions."""

from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.forms import Form, options

# ISO 3166-1 alpha-2 codes of countries a payout provider can pay out to, as (code, name).
COUNTRIES = [
    ("AR", "Argentina"), ("AU", "Australia"), ("AT", "Austria"), ("BE", "Belgium"),
    ("BR", "Brazil"), ("BG", "Bulgaria"), ("CA", "Canada"), ("CL", "Chile"),
    ("CO", "Colombia"), ("HR", "Croatia"), ("CY", "Cyprus"), ("CZ", "Czechia"),
    ("DK", "Denmark"), ("EG", "Egypt"), ("EE", "Estonia"), ("FI", "Finland"),
    ("FR", "France"), ("DE", "Germany"), ("GH", "Ghana"), ("GR", "Greece"),
    ("HK", "Hong Kong"), ("HU", "Hungary"), ("IS", "Iceland"), ("IN", "India"),
    ("ID", "Indonesia"), ("IE", "Ireland"), ("IL", "Israel"), ("IT", "Italy"),
    ("JP", "Japan"), ("KE", "Kenya"), ("LV", "Latvia"), ("LT", "Lithuania"),
    ("LU", "Luxembourg"), ("MY", "Malaysia"), ("MT", "Malta"), ("MX", "Mexico"),
    ("MA", "Morocco"), ("NL", "Netherlands"), ("NZ", "New Zealand"), ("NG", "Nigeria"),
    ("NO", "Norway"), ("PK", "Pakistan"), ("PE", "Peru"), ("PH", "Philippines"),
    ("PL", "Poland"), ("PT", "Portugal"), ("RO", "Romania"), ("SA", "Saudi Arabia"),
    ("SG", "Singapore"), ("SK", "Slovakia"), ("SI", "Slovenia"), ("ZA", "South Africa"),
    ("KR", "South Korea"), ("ES", "Spain"), ("SE", "Sweden"), ("CH", "Switzerland"),
    ("TW", "Taiwan"), ("TH", "Thailand"), ("TR", "Türkiye"), ("UA", "Ukraine"),
    ("AE", "United Arab Emirates"), ("GB", "United Kingdom"), ("US", "United States"),
    ("VN", "Vietnam"),
]  # fmt: skip


class ApplyForm(Form):
    store_name = StringField("Store name", validators=[DataRequired(), Length(min=2, max=80)])
    slug = StringField("Store address", validators=[DataRequired(), Length(min=3, max=60)])
    bio = TextAreaField("About your store", validators=[Optional(), Length(max=2_000)])
    support_email = EmailField(
        "Support email",
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    country = SelectField(
        "Country",
        choices=options([("", "Choose…"), *COUNTRIES]),
        validators=[DataRequired("Choose your country.")],
    )


class DeclineForm(Form):
    reason = TextAreaField(
        "Reason (the applicant reads this)", validators=[DataRequired(), Length(max=2_000)]
    )


class PayoutDetailsForm(Form):
    method = RadioField(
        "How you are paid",
        choices=options([("stripe", "Stripe Connect"), ("bank", "Bank transfer")]),
        validators=[DataRequired()],
    )
    stripe_account_id = StringField(
        "Stripe Connect account id", validators=[Optional(), Length(max=64)]
    )
    bank_details = TextAreaField(
        "Bank details (account holder, IBAN or account and routing numbers, bank)",
        validators=[Optional(), Length(max=1000)],
    )


class PayoutSentForm(Form):
    """Money left the platform's bank: the transfer's reference and a confirmation."""

    reference = StringField("Bank reference", validators=[DataRequired(), Length(max=255)])
    confirm = BooleanField(
        "I made this transfer", validators=[DataRequired("Tick the box to confirm.")]
    )


class PayoutRunForm(Form):
    """Preparing every payout due moves vendors' money: a reason and a confirmation."""

    reason = StringField(
        "Reason (kept in the audit log)", validators=[DataRequired(), Length(max=2000)]
    )
    confirm = BooleanField(
        "Prepare every payout that is due now",
        validators=[DataRequired("Tick the box to confirm.")],
    )


class PayoutFailedForm(Form):
    """The amount goes back to the vendor's balance: a reason and a confirmation."""

    reason = StringField("Why it failed", validators=[DataRequired(), Length(max=200)])
    confirm = BooleanField(
        "The transfer did not happen", validators=[DataRequired("Tick the box to confirm.")]
    )
