"""Version forms: the upload (a plain multipart post; htmx adds a progress bar) and the yank."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Form


class UploadForm(Form):
    file = FileField("File", validators=[FileRequired("Choose the file to upload.")])
    label = StringField("Version", validators=[DataRequired(), Length(max=40)])
    changelog = TextAreaField("What changed (Markdown)", validators=[Length(max=20_000)])
    publish_when_clean = BooleanField("Make it the current version once it is clean", default=True)


class YankForm(Form):
    reason = TextAreaField(
        "Why it is withdrawn", validators=[DataRequired("Say why."), Length(max=1000)]
    )
