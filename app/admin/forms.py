"""Admin forms: a reason (optional or required), a confirmation for actions that ban people or
change money, a setting's new value, a store's own commission."""

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import Form


class ReasonForm(Form):
    """An admin action whose reason is optional (kept in the audit log when given)."""

    reason = TextAreaField("Reason (for the audit log)", validators=[Optional(), Length(max=2000)])


class ConfirmedReasonForm(Form):
    """An action that bans people or changes money: a reason and an explicit confirmation."""

    reason = TextAreaField(
        "Reason (kept in the audit log)",
        validators=[DataRequired("Give a reason."), Length(max=2000)],
    )
    confirm = BooleanField(
        "I have checked this and want to go ahead",
        validators=[DataRequired("Tick the box to confirm.")],
    )


class SettingForm(Form):
    value = StringField("New value", validators=[InputRequired(), Length(max=12)])
    reason = TextAreaField(
        "Reason (kept in the history)",
        validators=[DataRequired("Give a reason."), Length(max=2000)],
    )
    confirm = BooleanField("I have checked this and want to go ahead")


class CommissionForm(ConfirmedReasonForm):
    """A store's own commission (empty clears it): it changes what the vendor is paid."""

    commission_bps = StringField(
        "Commission in basis points (1500 = 15%; empty: the default applies)",
        validators=[Optional(), Length(max=5)],
    )
