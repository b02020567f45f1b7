"""Review forms (on the shared base: CSRF, form data only, cleaned text)."""

from __future__ import annotations

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import Form, options
from app.reviews.models import BodyFormat
from app.reviews.services import (
    BODY_MAX,
    BODY_MIN,
    REASON_MAX,
    REASON_MIN,
    REPLY_MAX,
    TITLE_MAX,
    TITLE_MIN,
)

STAR_CHOICES = [(5, "5 stars"), (4, "4 stars"), (3, "3 stars"), (2, "2 stars"), (1, "1 star")]


class ReviewForm(Form):
    stars = RadioField(
        "Your rating",
        coerce=int,
        choices=options(STAR_CHOICES),
        validators=[InputRequired("Choose 1 to 5 stars.")],
    )
    title = StringField("Title", validators=[DataRequired(), Length(min=TITLE_MIN, max=TITLE_MAX)])
    body = TextAreaField(
        "Your review", validators=[DataRequired(), Length(min=BODY_MIN, max=BODY_MAX)]
    )
    body_format = SelectField(
        "Format",
        default=BodyFormat.PLAIN.value,
        choices=options(
            [(BodyFormat.PLAIN.value, "Plain text"), (BodyFormat.MARKDOWN.value, "Markdown")]
        ),
    )


class ReplyForm(Form):
    body = TextAreaField("Your reply", validators=[DataRequired(), Length(max=REPLY_MAX)])


class ReportForm(Form):
    reason = TextAreaField(
        "What is wrong with this review?",
        validators=[DataRequired(), Length(min=REASON_MIN, max=REASON_MAX)],
    )


class ModerationForm(Form):
    reason = TextAreaField(
        "Reason (the author sees it)", validators=[Optional(), Length(max=REASON_MAX)]
    )
