"""Account forms (on the shared base: CSRF, form data only, cleaned text)."""

from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from app.accounts.services import PASSWORD_MAX, PASSWORD_MIN
from app.forms import Form

_password = [DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
_email = [DataRequired(), Length(max=254), Email(check_deliverability=False)]


class SignupForm(Form):
    first_name = StringField("First name", validators=[Optional(), Length(max=80)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=80)])
    email = EmailField("Email", validators=_email)
    password = PasswordField("Password", validators=_password)
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me logged in on this device")


class ForgotPasswordForm(Form):
    email = EmailField("Email", validators=_email)


class ResetPasswordForm(Form):
    password = PasswordField("New password", validators=_password)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", "Passwords differ.")],
    )


class ChangePasswordForm(Form):
    current = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)]
    )
    password = PasswordField("New password", validators=_password)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", "Passwords differ.")],
    )


class ProfileForm(Form):
    first_name = StringField("First name", validators=[Optional(), Length(max=80)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=80)])
    bio = TextAreaField("Bio", validators=[Optional(), Length(max=2000)])
    avatar = FileField(
        "Avatar", validators=[FileAllowed(["png", "jpg", "jpeg", "webp", "gif"], "Images only.")]
    )


class ConfirmForm(Form):
    """A bare form for one-button POSTs (log out, resend): just the CSRF token."""
