"""The notification centre: handlers idempotent, the bell's count, marking read, IDOR,
preferences, the daily digest, unsubscribe links, and mail that survives a mail server outage."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import User
from app.catalog import review
from app.extensions import db
from app.notifications import services
from app.notifications.models import EmailState, Notification, NotificationPreference
from app.outbox.models import Event
from app.outbox.services import dispatch_committed
from app.queue import enqueue_due_jobs, get_queue, import_path
from app.timeutil import utcnow
from tests.catalog.factories import create_product
from tests.conftest import csrf_token
from tests.support.services import SmtpServer, body_text, free_port


def _user(app, user_id: int) -> User:
    return db.session.get(User, user_id)


def _count(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(Notification)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return db.session.scalar(query)


def _notify_later(app, user_id: int, kind: str = "sale_made", title: str = "You made a sale"):
    with app.app_context():
        event = services.notify_later(user_id, kind, title, "Body text", "/notifications")
        db.session.commit()
        event_id = event.id
        dispatch_committed()
    return event_id


def test_a_requested_notification_is_created_and_mailed_once(app, make_user, mailbox, run_jobs):
    user = make_user()
    event_id = _notify_later(app, user.id)
    assert run_jobs() == 1
    assert _count(app, user_id=user.id) == 1
    [message] = mailbox.to(user.email)
    assert message["Subject"] == "You made a sale"
    assert "Body text" in body_text(message)
    with app.app_context():
        # The job again (a retry after a lost acknowledgement): nothing new.
        assert import_path("jobs.notifications.deliver_notification")(event_id) is False
        # And the service itself, for the same event: the same row, no second email.
        first = db.session.scalar(select(Notification))
        again = services.notify(_user(app, user.id), "sale_made", "x", event_id=event_id)
        assert again.id == first.id
    assert _count(app, user_id=user.id) == 1
    assert len(mailbox.to(user.email)) == 1


def test_listing_decision_notifies_in_app_and_by_email_once(app, make_user, mailbox, run_jobs):
    product_id = create_product(app, make_user, "Decided", status="pending")
    admin = make_user("admin")
    with app.app_context():
        product = review.get_product_for_review(product_id)
        review.transition(_user(app, admin.id), product, "approve")
        vendor_user_id = product.vendor.user_id
        vendor_email = product.vendor.support_email
        db.session.commit()
        dispatch_committed()
    run_jobs()
    with app.app_context():
        [notice] = db.session.scalars(select(Notification))
        assert (notice.user_id, notice.kind) == (vendor_user_id, "listing_decision")
        assert notice.title == "Approved: Decided"
        assert notice.link == f"/vendor/products/{product_id}"
        assert notice.email_state == EmailState.SENT
        event_id = db.session.scalar(select(Event.id).where(Event.name == "product.approved"))
        assert import_path("jobs.catalog.notify_listing_decision")(event_id) is False
    [message] = mailbox.to(vendor_email)
    assert message["List-Unsubscribe"].startswith("<http://localhost/notifications/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Stop these emails" in body_text(message)
    assert _count(app) == 1


def test_vendor_decision_is_essential_mail_without_unsubscribe(app, make_user, mailbox, run_jobs):
    from app.vendors import services as vendors
    from app.vendors.models import VendorProfile

    applicant = make_user(store=False)
    admin = make_user("admin")
    with app.app_context():
        profile = VendorProfile(
            user_id=applicant.id,
            store_name="Applied",
            slug="applied",
            support_email=applicant.email,
            country="US",
        )
        db.session.add(profile)
        # Even with every switch off, the decision on the store is sent.
        db.session.add(
            NotificationPreference(user_id=applicant.id, kind="vendor_decision", email=False)
        )
        db.session.flush()
        vendors.approve_vendor(_user(app, admin.id), profile.id)
        db.session.commit()
        dispatch_committed()
    run_jobs()
    [message] = mailbox.to(applicant.email)
    assert message["List-Unsubscribe"] is None
    assert _count(app, user_id=applicant.id, kind="vendor_decision") == 1


def test_bell_counts_unread_and_marking_read(app, client, login_as, make_user):
    user = login_as("customer")
    with app.app_context():
        for n in range(3):
            services.notify(_user(app, user.id), "refund", f"Refund {n}", link="/")
        db.session.commit()
        ids = list(db.session.scalars(select(Notification.id).order_by(Notification.id)))
    bell = client.get("/notifications/unread", headers={"HX-Request": "true"})
    assert bell.status_code == 200 and 'aria-label="Notifications: 3 unread"' in bell.text
    assert 'hx-trigger="poll-visible"' in bell.text and "HX-Request" in bell.headers["Vary"]
    assert "Notifications: 3 unread" in client.get("/").text  # the header shows it on every page

    token = csrf_token(client, "/notifications")
    response = client.post(f"/notifications/{ids[0]}/read", data={"csrf_token": token})
    assert response.status_code == 303
    assert _count(app, user_id=user.id, read_at=None) == 2
    page = client.get("/notifications?show=unread").text
    assert "Refund 0" not in page and "Refund 1" in page

    # "Open" marks read and follows the notification's link (a local path only).
    response = client.post(f"/notifications/{ids[1]}/read", data={"csrf_token": token, "open": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/"

    response = client.post("/notifications/read-all", data={"csrf_token": token})
    assert response.status_code == 303
    assert _count(app, user_id=user.id, read_at=None) == 0
    bell = client.get("/notifications/unread", headers={"HX-Request": "true"})
    assert "0 unread" in bell.text


def test_another_users_notification_is_not_found(app, client, login_as, make_user):
    login_as("customer")
    other = make_user()
    with app.app_context():
        notice = services.notify(_user(app, other.id), "refund", "Theirs")
        db.session.commit()
        notice_id = notice.id
    token = csrf_token(client, "/notifications")
    assert (
        client.post(f"/notifications/{notice_id}/read", data={"csrf_token": token}).status_code
        == 404
    )
    assert "Theirs" not in client.get("/notifications").text
    assert _count(app, id=notice_id, read_at=None) == 1  # still unread


def test_polling_stops_once_the_session_has_ended(client):
    assert client.get("/notifications/unread", headers={"HX-Request": "true"}).status_code == 286


def test_preferences_switch_email_off_and_to_the_digest(app, client, login_as, mailbox):
    user = login_as("vendor")
    page = client.get("/account/notifications")
    assert page.status_code == 200 and "Password changed" in page.text
    data = {
        "csrf_token": csrf_token(client, "/account/notifications"),
        # Sales by daily digest, refunds off, everything else left as it was (on).
        "email_sale_made": "y",
        "delivery_sale_made": "daily",
        **{f"email_{key}": "y" for key in services.KINDS if key not in {"sale_made", "refund"}},
    }
    assert client.post("/account/notifications", data=data).status_code == 303
    with app.app_context():
        account = _user(app, user.id)
        choices = services.preferences(account)
        assert choices["sale_made"] == services.Choice(email=True, daily_digest=True)
        assert choices["refund"].email is False
        # Essential kinds cannot be switched off, whatever is posted.
        assert choices["password_changed"].email is True
        assert services.notify(account, "refund", "Refunded").email_state == EmailState.NONE
        queued = services.notify(account, "sale_made", "Sale one", link="/a")
        services.notify(account, "sale_made", "Sale two", link="/b")
        assert queued.email_state == EmailState.QUEUED
        db.session.commit()
    assert mailbox.to(user.email) == []

    with app.app_context():
        assert services.send_due_digests() == 0  # not a day old yet
        assert services.send_due_digests(utcnow() + timedelta(hours=25)) == 1
        assert services.send_due_digests(utcnow() + timedelta(hours=26)) == 0  # sent once
        states = set(db.session.scalars(select(Notification.email_state)))
    assert states == {EmailState.NONE, EmailState.SENT}
    [digest] = mailbox.to(user.email)
    text = body_text(digest)
    assert "Sale one" in text and "Sale two" in text and "http://localhost/a" in text
    assert "/notifications/unsubscribe/" in digest["List-Unsubscribe"]


def _unsubscribe_path(app, user_id: int, kind: str) -> str:
    with app.app_context():
        token = services.unsubscribe_token(_user(app, user_id), kind)
    return f"/notifications/unsubscribe/{user_id}/{kind}/{token}"


def test_one_click_unsubscribe(app, client, make_user):
    user = make_user()
    path = _unsubscribe_path(app, user.id, "review_received")
    page = client.get(path)
    assert page.status_code == 200 and "Stop “Reviews” emails?" in page.text
    with app.app_context():
        assert services.preferences(_user(app, user.id))["review_received"].email is True
    # RFC 8058: the mail client posts this body, with no session and no CSRF token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "Unsubscribed" in response.text
    with app.app_context():
        choices = services.preferences(_user(app, user.id))
    assert choices["review_received"].email is False
    assert choices["sale_made"].email is True  # only that kind


@pytest.mark.parametrize("forgery", ["tampered", "other_user", "other_kind", "essential"])
def test_forged_unsubscribe_links_are_refused(app, client, make_user, forgery):
    victim, owner = make_user(), make_user()
    path = _unsubscribe_path(app, owner.id, "sale_made")

    token = path.rsplit("/", 1)[1]
    if forgery == "tampered":
        target = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    elif forgery == "other_user":  # the owner's token with someone else's id
        target = f"/notifications/unsubscribe/{victim.id}/sale_made/{token}"
    elif forgery == "other_kind":
        target = f"/notifications/unsubscribe/{owner.id}/refund/{token}"
    else:  # a token for a kind that cannot be switched off
        target = _unsubscribe_path(app, owner.id, "password_changed")
    assert client.get(target).status_code == 400
    assert client.post(target).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def _worker(app) -> SimpleWorker:
    connection = app.extensions["redis"]
    return SimpleWorker([get_queue("default", connection)], connection=connection)


def test_a_mail_server_outage_delays_notifications_and_loses_none(
    app, app_env, make_user, redis_server
):
    """The job fails while nothing listens on the mail port (the notification rolls back
    with it), is retried once the server is back, and mails once."""
    port = free_port()
    down = create_app(env={**app_env, "SMTP_URL": f"smtp://127.0.0.1:{port}"})
    user = make_user()
    event_id = _notify_later(down, user.id)
    with down.app_context():
        _worker(down).work(burst=True)
    connection = app.extensions["redis"]
    assert connection.zcard("rq:scheduled:default") == 1  # waiting for its retry
    assert _count(app, user_id=user.id) == 0
    smtp = SmtpServer(port=port)
    smtp.start()
    try:
        time.sleep(1.1)  # JOB_RETRY_INTERVALS is 1,1 in tests
        with down.app_context():
            assert enqueue_due_jobs(connection) == 1
            _worker(down).work(burst=True)
        [message] = smtp.mailbox.to(user.email)
        assert message["Subject"] == "You made a sale"
    finally:
        smtp.stop()
    assert _count(app, user_id=user.id, event_id=event_id) == 1
    with app.app_context():
        assert db.session.get(Event, event_id).delivered_at is not None
    with down.app_context():
        db.engine.dispose()


def test_a_mail_server_outage_keeps_the_digest_queued(app, app_env, make_user):
    port = free_port()
    down = create_app(env={**app_env, "SMTP_URL": f"smtp://127.0.0.1:{port}"})
    user = make_user()
    with down.app_context():
        account = _user(down, user.id)
        services.set_preferences(account, {"sale_made": services.Choice(True, True)})
        services.notify(account, "sale_made", "Queued sale")
        db.session.commit()
        later = utcnow() + timedelta(days=1, minutes=1)
        with pytest.raises(OSError):
            services.send_due_digests(later)
        db.session.rollback()
    assert _count(app, email_state=EmailState.QUEUED) == 1
    smtp = SmtpServer(port=port)
    smtp.start()
    try:
        with down.app_context():
            assert services.send_due_digests(later) == 1
        [digest] = smtp.mailbox.to(user.email)
        assert "Queued sale" in body_text(digest)
    finally:
        smtp.stop()
    assert _count(app, email_state=EmailState.SENT) == 1
    with down.app_context():
        db.engine.dispose()


def test_notifying_a_disabled_account_sends_no_optional_mail(app, make_user, mailbox):
    user = make_user(disabled_at=utcnow())
    with app.app_context():
        notice = services.notify(_user(app, user.id), "sale_made", "While away")
        db.session.commit()
        assert notice.email_state == EmailState.NONE
    assert mailbox.to(user.email) == []


def test_login_page_bell_is_absent_for_visitors(client):
    assert 'id="bell"' not in client.get("/").text


def test_kinds_are_a_one_liner_to_emit(app, make_user):
    user = make_user()
    with app.app_context():
        with pytest.raises(services.UnknownKind):
            services.notify_later(user.id, "no_such_kind", "x")
        for key in services.KINDS:
            services.notify_later(user.id, key, key)
        db.session.commit()
        names = set(db.session.scalars(select(Event.name)))
    assert names == {services.NOTIFICATION_EVENT}


def _new_sign_ins(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Event).where(Event.name == "user.new_sign_in")
        )


def test_a_sign_in_from_a_new_browser_is_mailed_to_the_owner(app, make_user, mailbox, run_jobs):
    from tests.conftest import login

    first_timer = make_user()
    assert login(app.test_client(), first_timer).status_code == 303
    assert _new_sign_ins(app) == 0  # an account's first login is no news to its owner

    user = make_user(last_login_at=utcnow())
    browser = app.test_client()
    assert login(browser, user).status_code == 303
    assert _new_sign_ins(app) == 1
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/")})
    assert login(browser, user).status_code == 303  # the same browser: known
    assert _new_sign_ins(app) == 1
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/")})
    browser.set_cookie("am_seen", "forged", domain="localhost")
    assert login(browser, user).status_code == 303  # a forged cookie counts for nothing
    assert _new_sign_ins(app) == 2
    run_jobs()
    messages = mailbox.to(user.email)
    assert [m["Subject"] for m in messages] == ["New sign-in to your account"] * 2
    assert messages[0]["List-Unsubscribe"] is None  # security mail cannot be switched off
    assert _count(app, user_id=user.id, kind="new_sign_in") == 2


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_links_are_paths_on_this_site_only(app, make_user, link):
    user = make_user()
    with app.app_context():
        notice = services.notify(_user(app, user.id), "refund", "Refunded", link=link)
        assert notice.link == ""


def test_the_digest_command_and_the_worker_chore_send_due_digests(app, make_user, mailbox):
    from app.worker import Chores

    user = make_user()
    with app.app_context():
        account = _user(app, user.id)
        services.set_preferences(account, {"review_received": services.Choice(True, True)})
        notice = services.notify(account, "review_received", "A review")
        notice.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert result.output.strip() == "1 digests sent."
    assert len(mailbox.to(user.email)) == 1
    assert "daily digests" in [chore.name for chore in Chores(app).chores]
