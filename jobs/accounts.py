"""Jobs reacting to account events: verification, welcome, account-exists, reset and
password-changed mail."""

from app.accounts import services
from app.outbox.services import deliver_once
from jobs import job


@job
def send_verification_email(event_id: str) -> bool:
    return deliver_once(
        event_id,
        "send_verification_email",
        lambda event: services.send_verification_email(event.payload["user_id"]),
    )


@job
def send_welcome_email(event_id: str) -> bool:
    return deliver_once(
        event_id,
        "send_welcome_email",
        lambda event: services.send_welcome_email(event.payload["user_id"]),
    )


@job
def send_account_exists_email(event_id: str) -> bool:
    return deliver_once(
        event_id,
        "send_account_exists_email",
        lambda event: services.send_account_exists_email(event.payload["user_id"]),
    )


@job
def send_password_reset_email(event_id: str) -> bool:
    return deliver_once(
        event_id,
        "send_password_reset_email",
        lambda event: services.send_password_reset_email(event.payload["user_id"]),
    )


@job
def send_password_changed_email(event_id: str) -> bool:
    return deliver_once(
        event_id,
        "send_password_changed_email",
        lambda event: services.send_password_changed_email(event.payload["user_id"]),
    )


@job
def sweep_outbox() -> int:
    from app.outbox.services import dispatch_pending

    return dispatch_pending()
