"""Support threads through HTTP: the flow between a buyer and a vendor, who may see what (IDOR),
attachments that are not images, and escalations in the admin panel."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.commerce.models import OrderLine
from app.extensions import db
from app.notifications.models import Notification
from app.support.models import SupportAttachment, SupportEscalation, SupportThread
from app.vendors.models import VendorProfile
from tests.conftest import csrf_token, login
from tests.support.services import body_text
from tests.support_threads.factories import make_thread, png_bytes, purchase


def _page(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def _client_for(app, user):
    other = app.test_client()
    assert login(other, user).status_code == 303
    return other


def _thread_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(SupportThread.id).order_by(SupportThread.id.desc()))


def _status(app, thread_id: int) -> str:
    with app.app_context():
        return db.session.get(SupportThread, thread_id).status


def test_buyer_and_vendor_talk_in_a_thread(app, client, make_user, mailbox, run_jobs):
    bought = purchase(
        app, make_user, support_policy="Email support on weekdays, setup help included."
    )
    with app.app_context():
        store = db.session.scalar(
            select(VendorProfile).where(VendorProfile.user_id == bought.vendor.id)
        )
        store.support_response_hours = 48
        order_id = db.session.get(OrderLine, bought.line_id).order_id
        db.session.commit()
    login(client, bought.buyer)
    order_page = _page(client.get(f"/orders/{order_id}"))
    assert f'href="/support/new/{bought.line_id}"' in order_page
    assert "Get help / contact the vendor" in order_page

    new_page = _page(client.get(f"/support/new/{bought.line_id}"))
    assert "Email support on weekdays, setup help included." in new_page
    assert "The store promises to answer within 2 days." in new_page

    response = client.post(
        f"/support/new/{bought.line_id}",
        data={
            "csrf_token": csrf_token(client, f"/support/new/{bought.line_id}"),
            "subject": "Setup question",
            "body": "Which credential does the Slack node need?",
            "images": [(io.BytesIO(png_bytes()), "screen.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    thread_id = _thread_id(app)
    assert response.headers["Location"] == f"/support/{thread_id}"
    assert _status(app, thread_id) == "open"
    thread_page = _page(client.get(f"/support/{thread_id}"))
    assert "Which credential does the Slack node need?" in thread_page
    assert "The store promises to answer within 2 days." in thread_page
    with app.app_context():
        attachment = db.session.scalar(select(SupportAttachment))
        attachment_id, key = attachment.id, attachment.storage_key
    assert key.startswith("support/") and re.fullmatch(r"support/[0-9a-f]{64}\.png", key)
    assert f'src="/support/attachments/{attachment_id}"' in thread_page
    image = client.get(f"/support/attachments/{attachment_id}")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image.headers["Content-Security-Policy"]
    assert image.headers["Cache-Control"] == "private, no-store"
    assert "Support requests" in _page(client.get("/support")) and "Setup question" in _page(
        client.get("/support")
    )

    # The vendor hears of it, in the app and by email.
    run_jobs()
    [mail] = mailbox.to(bought.vendor.email)
    assert "Setup question" in mail["Subject"]
    assert "Which credential does the Slack node need?" in body_text(mail)

    vendor = _client_for(app, bought.vendor)
    inbox = _page(vendor.get("/vendor/support?status=open"))
    assert "Setup question" in inbox
    assert "Setup question" not in _page(vendor.get("/vendor/support?status=answered"))
    assert vendor.get(f"/support/attachments/{attachment_id}").status_code == 200
    reply = vendor.post(
        f"/support/{thread_id}/messages",
        data={
            "csrf_token": csrf_token(vendor, f"/support/{thread_id}"),
            "body": "The Slack bot token, with chat:write.",
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 303
    assert _status(app, thread_id) == "answered"
    assert "Setup question" in _page(vendor.get("/vendor/support?status=answered"))
    run_jobs()
    with app.app_context():
        kinds = list(
            db.session.scalars(
                select(Notification.kind).where(Notification.user_id == bought.buyer.id)
            )
        )
    assert kinds == ["support_message"]
    assert "The Slack bot token, with chat:write." in body_text(mailbox.to(bought.buyer.email)[0])

    # The buyer writes again (open), then closes; a closed thread takes no more messages.
    again = client.post(
        f"/support/{thread_id}/messages",
        data={"csrf_token": csrf_token(client, f"/support/{thread_id}"), "body": "Thanks, works."},
    )
    assert again.status_code == 303 and _status(app, thread_id) == "open"
    close = client.post(
        f"/support/{thread_id}/close", data={"csrf_token": csrf_token(client, "/support")}
    )
    assert close.status_code == 303 and _status(app, thread_id) == "closed"
    late = vendor.post(
        f"/support/{thread_id}/messages",
        data={"csrf_token": csrf_token(vendor, "/vendor/support"), "body": "One more thing"},
    )
    assert late.status_code == 409 and "This thread is closed" in _page(late)
    assert "Setup question" in _page(vendor.get("/vendor/support?status=closed"))


def test_message_limits_are_explained(app, client, make_user):
    made = make_thread(app, make_user)
    login(client, made.purchase.buyer)
    url = f"/support/{made.thread_id}/messages"
    too_long = client.post(
        url, data={"csrf_token": csrf_token(client, "/support"), "body": "x" * 5001}
    )
    assert too_long.status_code == 422
    assert "Field must be between 2 and 5000 characters long." in _page(too_long)
    empty = client.post(url, data={"csrf_token": csrf_token(client, "/support"), "body": "  "})
    assert empty.status_code == 422


def test_other_buyers_vendors_and_admins_get_404(app, client, make_user, login_as):
    made = make_thread(app, make_user)
    escalated = make_thread(app, make_user, escalated=True)
    # Another buyer, another store, and an admin on a thread nobody escalated.
    other_buyer = make_user("customer")
    other_vendor = make_user("vendor")
    admin = make_user("admin")
    for user in (other_buyer, other_vendor):
        other = _client_for(app, user)
        token = csrf_token(other, "/support")
        for url in (
            f"/support/{made.thread_id}",
            f"/support/{escalated.thread_id}",
            f"/support/attachments/{made.attachment_id}",
            f"/support/new/{made.purchase.line_id}",
        ):
            assert other.get(url).status_code == 404, (user.email, url)
        for url, data in (
            (f"/support/{made.thread_id}/messages", {"body": "Let me in"}),
            (f"/support/{made.thread_id}/close", {}),
            (f"/support/{made.thread_id}/escalate", {"reason": "I want to see this thread"}),
            (f"/support/new/{made.purchase.line_id}", {"subject": "Hi there", "body": "Mine?"}),
        ):
            response = other.post(url, data={**data, "csrf_token": token})
            assert response.status_code == 404, (user.email, url)
    admin_client = _client_for(app, admin)
    assert admin_client.get(f"/support/{made.thread_id}").status_code == 404
    assert admin_client.get(f"/support/attachments/{made.attachment_id}").status_code == 404
    assert admin_client.get(f"/support/{escalated.thread_id}").status_code == 200
    assert admin_client.get(f"/support/attachments/{escalated.attachment_id}").status_code == 200
    # Admins read; only the two sides write.
    denied = admin_client.post(
        f"/support/{escalated.thread_id}/messages",
        data={"csrf_token": csrf_token(admin_client, "/admin/support"), "body": "Admin here"},
    )
    assert denied.status_code == 403
    # A vendor's escalation id is no key to the admin's resolve action.
    vendor = _client_for(app, made.purchase.vendor)
    resolve = vendor.post(
        f"/admin/support/escalations/{escalated.escalation_id}/resolve",
        data={"csrf_token": csrf_token(vendor, "/support"), "note": "Resolved by me, a vendor"},
    )
    assert resolve.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SupportThread)) == 2
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_file_that_is_not_an_image_is_refused(app, client, make_user):
    bought = purchase(app, make_user)
    login(client, bought.buyer)
    url = f"/support/new/{bought.line_id}"
    fields = {"subject": "My file", "body": "Here is my export."}
    by_name = client.post(
        url,
        data={
            **fields,
            "csrf_token": csrf_token(client, url),
            "images": [(io.BytesIO(b"name,value\n"), "export.csv")],
        },
        content_type="multipart/form-data",
    )
    assert by_name.status_code == 422
    assert "Images only (PNG, JPEG, WebP, GIF)." in _page(by_name)
    # Named like an image, but the content decides.
    by_content = client.post(
        url,
        data={
            **fields,
            "csrf_token": csrf_token(client, url),
            "images": [(io.BytesIO(b"<html><script>alert(1)</script></html>"), "photo.png")],
        },
        content_type="multipart/form-data",
    )
    assert by_content.status_code == 422
    assert "not an image we can use (PNG, JPEG, WebP or GIF" in _page(by_content)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SupportThread)) == 0
        assert db.session.scalar(select(func.count()).select_from(SupportAttachment)) == 0


def test_an_escalation_reaches_the_admin_panel_and_is_resolved_with_an_audit_row(
    app, client, make_user, run_jobs
):
    made = make_thread(app, make_user)
    buyer = made.purchase.buyer
    login(client, buyer)
    short = client.post(
        f"/support/{made.thread_id}/escalate",
        data={"csrf_token": csrf_token(client, "/support"), "reason": "Help"},
    )
    assert short.status_code == 422
    escalate = client.post(
        f"/support/{made.thread_id}/escalate",
        data={
            "csrf_token": csrf_token(client, "/support"),
            "reason": "No answer after a week.",
        },
    )
    assert escalate.status_code == 303
    twice = client.post(
        f"/support/{made.thread_id}/escalate",
        data={"csrf_token": csrf_token(client, "/support"), "reason": "Still no answer here."},
    )
    assert twice.status_code == 409

    admin = _client_for(app, make_user("admin"))
    panel = _page(admin.get("/admin/support"))
    assert 'href="/admin/support" aria-current="page"' in panel and "Support escalations" in panel
    assert "It stops at the second node" in panel and "No answer after a week." in panel
    assert "It stops at the second node" in _page(admin.get("/admin/support?filter=open"))
    assert "It stops at the second node" not in _page(admin.get("/admin/support?filter=resolved"))
    assert "No escalations match." in _page(admin.get("/admin/support?q=nothing-like-it"))
    thread_page = _page(admin.get(f"/support/{made.thread_id}"))
    assert "The HTTP node fails with a 401." in thread_page and "Mark resolved" in thread_page
    with app.app_context():
        escalation_id = db.session.scalar(select(SupportEscalation.id))
    resolve = admin.post(
        f"/admin/support/escalations/{escalation_id}/resolve",
        data={
            "csrf_token": csrf_token(admin, "/admin/support"),
            "note": "We reached the vendor; they answer today.",
        },
    )
    assert resolve.status_code == 303
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry))
        assert (entry.action, entry.target_type, entry.target_id) == (
            "support.escalation_resolved",
            "support_escalation",
            str(escalation_id),
        )
        assert entry.reason == "We reached the vendor; they answer today."
        assert entry.before["resolved"] is False and entry.after["resolved"] is True
    again = admin.post(
        f"/admin/support/escalations/{escalation_id}/resolve",
        data={"csrf_token": csrf_token(admin, "/admin/support"), "note": "Resolved a second time"},
    )
    assert again.status_code == 409
    assert "It stops at the second node" in _page(admin.get("/admin/support?filter=resolved"))
    # Both sides read the resolution on the thread and were notified of it.
    assert "We reached the vendor; they answer today." in _page(
        client.get(f"/support/{made.thread_id}")
    )
    run_jobs()
    with app.app_context():
        notified = set(
            db.session.scalars(
                select(Notification.user_id).where(Notification.title.like("An admin resolved%"))
            )
        )
    assert notified == {buyer.id, made.purchase.vendor.id}


def test_the_vendor_sets_a_response_time_promise(app, client, make_user):
    made = make_thread(app, make_user)
    vendor = _client_for(app, made.purchase.vendor)
    assert "This store has not promised a response time." in _page(
        vendor.get(f"/support/{made.thread_id}")
    )
    bad = vendor.post(
        "/vendor/support/settings",
        data={"csrf_token": csrf_token(vendor, "/vendor/support/settings"), "hours": "7"},
    )
    assert bad.status_code == 422
    saved = vendor.post(
        "/vendor/support/settings",
        data={"csrf_token": csrf_token(vendor, "/vendor/support/settings"), "hours": "8"},
    )
    assert saved.status_code == 303
    login(client, made.purchase.buyer)
    assert "The store promises to answer within 8 hours." in _page(
        client.get(f"/support/{made.thread_id}")
    )
    assert "within 8 hours" in _page(vendor.get("/vendor/support"))


def test_htmx_gets_the_form_fragment_back_and_the_inbox_swaps(app, client, make_user):
    made = make_thread(app, make_user)
    login(client, made.purchase.buyer)
    response = client.post(
        f"/support/{made.thread_id}/messages",
        data={"csrf_token": csrf_token(client, "/support"), "body": ""},
        headers={"HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="reply_form"') and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
    vendor = _client_for(app, made.purchase.vendor)
    fragment = vendor.get("/vendor/support?status=open", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="inbox">') and "It stops at the second node" in text


def test_htmx_escalate_and_resolve_forms_come_back_alone(app, client, make_user):
    made = make_thread(app, make_user)
    login(client, made.purchase.buyer)
    escalate = client.post(
        f"/support/{made.thread_id}/escalate",
        data={"csrf_token": csrf_token(client, "/support"), "reason": "short"},
        headers={"HX-Request": "true"},
    )
    assert escalate.status_code == 422
    assert escalate.get_data(as_text=True).lstrip().startswith('<form id="escalate_form"')
    escalated = make_thread(app, make_user, escalated=True)
    admin = _client_for(app, make_user("admin"))
    resolve = admin.post(
        f"/admin/support/escalations/{escalated.escalation_id}/resolve",
        data={"csrf_token": csrf_token(admin, "/admin/support"), "note": ""},
        headers={"HX-Request": "true"},
    )
    assert resolve.status_code == 422
    text = resolve.get_data(as_text=True)
    assert text.lstrip().startswith('<form id="resolve_form"') and "This field is required." in text
