"""Forms for licences: the vendor's reason to disable or re-enable a key."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.forms import Form
from app.licensing.services import MAX_REASON


class LicenceStatusForm(Form):
    reason = StringField(
        "Reason (kept with the licence)", validators=[DataRequired(), Length(max=MAX_REASON)]
    )
