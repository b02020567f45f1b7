"""Support services without HTTP: attachments (count, size, content-hash keys), statuses,
notifications of the other side, and the response-time wording."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from app.accounts.models import User
from app.commerce.models import OrderLine
from app.errors import NotFound
from app.extensions import db
from app.images import InvalidImage
from app.outbox.models import Event
from app.storage import get_storage
from app.support import services
from app.support.models import SupportAttachment, SupportEscalation, SupportThread
from app.timeutil import utcnow
from tests.support_threads.factories import make_thread, png_bytes, purchase


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _notifications_for(user_id: int) -> list[dict]:
    return [
        event.payload
        for event in db.session.scalars(select(Event).order_by(Event.created_at))
        if event.name == "notification.requested" and event.payload["user_id"] == user_id
    ]


def test_images_are_limited_in_number_and_size_and_stored_once(app, make_user):
    bought = purchase(app, make_user)
    with app.app_context():
        buyer = _user(bought.buyer.id)
        five = [services.Upload(f"{n}.png", png_bytes()) for n in range(5)]
        with pytest.raises(services.InvalidMessage, match="at most 4 images"):
            services.start_thread(buyer, bought.line_id, "Too many", "See these.", five)
        db.session.rollback()
        huge = services.Upload("big.png", b"\x89PNG" + b"0" * services.ATTACHMENT_MAX_BYTES)
        with pytest.raises(InvalidImage):
            services.start_thread(buyer, bought.line_id, "Too big", "See this.", [huge])
        db.session.rollback()
        same = [services.Upload("a.png", png_bytes()), services.Upload("b.png", png_bytes())]
        thread = services.start_thread(buyer, bought.line_id, "Twice", "The same one.", same)
        db.session.commit()
        keys = {a.storage_key for a in thread.messages[0].attachments}
        assert len(keys) == 1 and get_storage().exists(keys.pop())
        names = [a.filename for a in thread.messages[0].attachments]
        assert names == ["a.png", "b.png"]
        assert db.session.scalar(select(func.count()).select_from(SupportAttachment)) == 2


def test_statuses_follow_who_wrote_last_and_the_other_side_is_told(app, make_user):
    made = make_thread(app, make_user)
    buyer_id, vendor_id = made.purchase.buyer.id, made.purchase.vendor.id
    with app.app_context():
        assert len(_notifications_for(vendor_id)) == 1  # the first message
        vendor = _user(vendor_id)
        services.post_message(vendor, made.thread_id, "Use the API key " + "x" * 300)
        thread, side = services.thread_for(vendor, made.thread_id)
        assert (thread.status, side) == ("answered", "vendor")
        [told] = _notifications_for(buyer_id)
        assert told["kind"] == "support_message" and told["link"] == f"/support/{made.thread_id}"
        assert len(told["body"]) == services.EXCERPT and told["body"].endswith("…")
        services.post_message(_user(buyer_id), made.thread_id, "Thanks")
        assert thread.status == "open"
        services.close_thread(vendor, made.thread_id)
        services.close_thread(vendor, made.thread_id)  # once is enough: nothing new
        assert thread.status == "closed" and thread.closed_by_id == vendor_id
        assert len(_notifications_for(buyer_id)) == 2
        with pytest.raises(services.ThreadClosed):
            services.post_message(_user(buyer_id), made.thread_id, "And another thing")
        # A closed thread may still go to the admins.
        escalation = services.escalate_thread(vendor, made.thread_id, "The buyer wants a refund.")
        assert escalation.side == "vendor"
        with pytest.raises(services.AlreadyEscalated):
            services.escalate_thread(_user(buyer_id), made.thread_id, "I want a refund, yes.")


def test_a_response_promise_reads_in_hours_or_days():
    assert services.response_promise(None) == "This store has not promised a response time."
    assert services.response_promise(8) == "The store promises to answer within 8 hours."
    assert services.response_promise(24) == "The store promises to answer within 1 day."
    assert services.response_promise(120) == "The store promises to answer within 5 days."
    assert [services.hours_label(h) for h in (4, 48, 72)] == ["4 hours", "2 days", "3 days"]


def test_only_paid_lines_of_the_buyer_open_threads(app, make_user):
    bought = purchase(app, make_user)
    with app.app_context():
        line = db.session.get(OrderLine, bought.line_id)
        line.order.status = "pending"
        db.session.commit()
        with pytest.raises(NotFound):
            services.start_thread(_user(bought.buyer.id), bought.line_id, "Hello", "Unpaid.")
        with pytest.raises(NotFound):
            services.set_response_time(_user(bought.buyer.id), 24)
        with pytest.raises(services.InvalidMessage):
            services.set_response_time(_user(bought.vendor.id), 7)


def test_the_database_keeps_one_open_escalation_per_thread(app, make_user):
    """The other side's escalation lands between this side's check and its insert: the
    partial unique index refuses the second, which is told it is already escalated; once
    resolved, the thread can be escalated again."""
    made = make_thread(app, make_user)
    with app.app_context():
        buyer = db.session.get(User, made.purchase.buyer.id)
        thread = db.session.get(SupportThread, made.thread_id)
        assert thread.open_escalation is None  # what this side saw
        with db.engine.begin() as other:  # the vendor's request, committed meanwhile
            other.execute(
                insert(SupportEscalation).values(
                    thread_id=made.thread_id, side="vendor", reason="Raised by the vendor."
                )
            )
        # The check passes on what this session loaded; the database refuses the insert.
        db.session.get(SupportThread, made.thread_id).escalations  # noqa: B018 - loaded before
        with pytest.raises(services.AlreadyEscalated):
            services.escalate_thread(buyer, made.thread_id, "The vendor has not answered.")
        db.session.rollback()
        open_rows = db.session.scalars(
            select(SupportEscalation).where(SupportEscalation.thread_id == made.thread_id)
        ).all()
        assert [e.side for e in open_rows] == ["vendor"]
        open_rows[0].resolved_at = utcnow()
        db.session.commit()
        again = services.escalate_thread(buyer, made.thread_id, "It stopped working again.")
        db.session.commit()
        assert again.side == "buyer"
