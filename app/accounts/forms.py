"""Account forms (Flask-WTF: every POST carries CSRF)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from app.accounts.services import PASSWORD_MAX, PASSWORD_MIN

_password = [DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
_email = [DataRequired(), Length(max=254), Email(check_deliverability=False)]


class SignupForm(FlaskForm):
    first_name = StringField("First name", validators=[Optional(), Length(max=80)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=80)])
    email = EmailField("Email", validators=_email)
    password = PasswordField("Password", validators=_password)
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me logged in on this device")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=_email)


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=_password)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", "Passwords differ.")],
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)]
    )
    password = PasswordField("New password", validators=_password)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", "Passwords differ.")],
    )


class ProfileForm(FlaskForm):
    first_name = StringField("First name", validators=[Optional(), Length(max=80)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=80)])
    bio = TextAreaField("Bio", validators=[Optional(), Length(max=2000)])
    avatar = FileField(
        "Avatar", validators=[FileAllowed(["png", "jpg", "jpeg", "webp", "gif"], "Images only.")]
    )


class ConfirmForm(FlaskForm):
    """A bare form for one-button POSTs (log out, resend): just the CSRF token."""
