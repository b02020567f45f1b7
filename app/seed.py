"""Demo data for `make run`: idempotent, written for this project."""

from __future__ import annotations

from collections.abc import Iterator

from app.accounts.models import User
from app.accounts.permissions import Role
from app.accounts.services import find_user_by_email, hash_password
from app.catalog.seed_data import seed_catalog
from app.extensions import db
from app.timeutil import utcnow

DEMO_PASSWORD = "monster-demo-2026"  # noqa: S105 - the published demo password (README)
DEMO_ACCOUNTS = [
    ("admin@demo.autopilot.monster", Role.ADMIN, "Ada", "Admin"),
    ("vendor@demo.autopilot.monster", Role.VENDOR, "Vera", "Vendor"),
    ("customer@demo.autopilot.monster", Role.CUSTOMER, "Cory", "Customer"),
]


def seed() -> Iterator[str]:
    """Create the demo accounts, then the demo catalog (app.catalog.seed_data); idempotent."""
    accounts: dict[Role, User] = {}
    password_hash = ""
    for email, role, first, last in DEMO_ACCOUNTS:
        user = find_user_by_email(email)
        if user is not None:
            yield f"exists: {email}"
        else:
            # scrypt is slow on purpose: hash the shared demo password once, not per account.
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(
                email=email,
                password_hash=password_hash,
                role=role.value,
                first_name=first,
                last_name=last,
                email_verified_at=utcnow(),
            )
            db.session.add(user)
            yield f"created: {email} ({role.value})"
        accounts[role] = user
    db.session.commit()
    yield from seed_catalog(reviewer=accounts[Role.ADMIN])
