"""Support forms (on the shared base: CSRF, form data only, cleaned text)."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, MultipleFileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Form, options
from app.support.services import (
    BODY_MAX,
    BODY_MIN,
    REASON_MAX,
    REASON_MIN,
    RESOLUTION_MAX,
    RESPONSE_HOURS,
    SUBJECT_MAX,
    SUBJECT_MIN,
    hours_label,
)

# The name is a first filter; the service decodes every file and refuses what is no image.
_IMAGES = FileAllowed(["png", "jpg", "jpeg", "webp", "gif"], "Images only (PNG, JPEG, WebP, GIF).")


class MessageForm(Form):
    body = TextAreaField(
        "Your message", validators=[DataRequired(), Length(min=BODY_MIN, max=BODY_MAX)]
    )
    images = MultipleFileField("Images (screenshots; PNG, JPEG, WebP or GIF)", validators=[_IMAGES])


class ThreadForm(MessageForm):
    subject = StringField(
        "Subject", validators=[DataRequired(), Length(min=SUBJECT_MIN, max=SUBJECT_MAX)]
    )


class EscalateForm(Form):
    reason = TextAreaField(
        "Why should an admin look at this?",
        validators=[DataRequired(), Length(min=REASON_MIN, max=REASON_MAX)],
    )


class ResolveForm(Form):
    note = TextAreaField(
        "Resolution (both sides read it; kept in the audit log)",
        validators=[DataRequired(), Length(min=REASON_MIN, max=RESOLUTION_MAX)],
    )


class ResponseTimeForm(Form):
    hours = SelectField(
        "Response-time promise",
        coerce=int,
        choices=options(
            [(0, "No promise"), *((h, f"Within {hours_label(h)}") for h in RESPONSE_HOURS)]
        ),
    )
