"""Jobs reacting to account events: verification, welcome, account-exists, reset,
password-changed and new sign-in mail."""

from app.accounts import services
from app.outbox.models import Event
from jobs import event_handler


@event_handler
def send_verification_email(event: Event) -> None:
    services.send_verification_email(event.payload["user_id"])


@event_handler
def send_welcome_email(event: Event) -> None:
    services.send_welcome_email(event.payload["user_id"])


@event_handler
def send_account_exists_email(event: Event) -> None:
    services.send_account_exists_email(event.payload["user_id"])


@event_handler
def send_password_reset_email(event: Event) -> None:
    services.send_password_reset_email(event.payload["user_id"])


@event_handler
def send_password_changed_email(event: Event) -> None:
    services.send_password_changed_email(event.payload["user_id"])


@event_handler
def send_new_sign_in_email(event: Event) -> None:
    services.send_new_sign_in_email(event.id, event.payload)
