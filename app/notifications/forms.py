"""The notification preferences form: one email switch per kind, instant or daily for the
chatty kinds (built from the kinds, so a new kind gets its fields)."""

from __future__ import annotations

from wtforms import BooleanField, RadioField
from wtforms.validators import Optional

from app.forms import Form, options
from app.notifications.services import KINDS, Choice

DELIVERY = options([("instant", "One email each"), ("daily", "A daily digest")])


class PreferencesForm(Form):
    """Fields ``email_<kind>`` and, for chatty kinds, ``delivery_<kind>``."""

    def choices(self) -> dict[str, Choice]:
        result = {}
        for key, kind in KINDS.items():
            if kind.essential:
                continue
            delivery = getattr(self, f"delivery_{key}", None)
            result[key] = Choice(
                email=bool(getattr(self, f"email_{key}").data),
                daily_digest=delivery is not None and delivery.data == "daily",
            )
        return result

    def fill(self, current: dict[str, Choice]) -> None:
        for key, kind in KINDS.items():
            if kind.essential:
                continue
            getattr(self, f"email_{key}").data = current[key].email
            delivery = getattr(self, f"delivery_{key}", None)
            if delivery is not None:
                delivery.data = "daily" if current[key].daily_digest else "instant"


for _key, _kind in KINDS.items():
    if _kind.essential:
        continue
    setattr(PreferencesForm, f"email_{_key}", BooleanField(f"Email me: {_kind.label}"))
    if _kind.chatty:
        setattr(
            PreferencesForm,
            f"delivery_{_key}",
            RadioField(
                f"How: {_kind.label}",
                choices=DELIVERY,
                default="instant",
                validators=[Optional()],
            ),
        )
