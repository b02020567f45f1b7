"""The demo support thread: made by `flask seed` after the purchases, answered, made once."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.support.models import SupportMessage, SupportThread
from demo.support import seed_support
from tests.conftest import login

DEMO_PASSWORD = "monster-demo-2026"


def _by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_the_demo_has_one_answered_support_thread(app, client):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "created: support thread about" in result.output
    again = app.test_cli_runner().invoke(args=["seed"])
    assert "exists: the demo support thread" in again.output
    with app.app_context():
        customer = _by_email("customer@demo.autopilot.monster")
        vendor = _by_email("vendor@demo.autopilot.monster")
        assert list(seed_support(customer, vendor)) == ["exists: the demo support thread"]
        [thread] = db.session.scalars(select(SupportThread))
        assert thread.buyer_id == customer.id and thread.status == "answered"
        assert thread.vendor.user_id == vendor.id and thread.vendor.support_response_hours == 24
        sides = list(
            db.session.scalars(
                select(SupportMessage.side)
                .where(SupportMessage.thread_id == thread.id)
                .order_by(SupportMessage.id)
            )
        )
        assert sides == ["buyer", "vendor"]
        assert db.session.scalar(select(func.count()).select_from(SupportMessage)) == 2
        thread_id, vendor_user = thread.id, vendor
    assert login(client, vendor_user, DEMO_PASSWORD).status_code == 303
    inbox = client.get("/vendor/support?status=answered").get_data(as_text=True)
    assert f"/support/{thread_id}" in inbox
