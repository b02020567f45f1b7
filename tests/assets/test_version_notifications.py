"""Who hears about versions, through the real pipeline (upload, scan job, outbox, worker): the
uploader of every verdict (scan_finished, the version_scanned email as they chose), and each
owner with a valid licence of a new version on sale (new_version, once per owner, by a job)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assets import services
from app.assets.models import ProductVersion
from app.extensions import db
from app.notifications.models import EmailState
from app.outbox.models import Event
from app.outbox.services import dispatch_committed
from app.queue import import_path
from app.timeutil import utcnow
from tests.assets import samples
from tests.assets.factories import draft, owner_of, upload
from tests.licensing.factories import create_licence
from tests.notifications.factories import choose, notices, subject_of
from tests.support.services import body_text


@pytest.fixture
def ctx(app):
    """An app context on an empty versions folder (the storage folder outlives tests)."""
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)
    with app.app_context():
        yield


def workflow(name: str) -> bytes:
    """The sample workflow under another name: each version a file of its own."""
    document = json.loads(samples.workflow_bytes())
    document["name"] = name
    return json.dumps(document).encode()


def _version(version_id: int) -> ProductVersion:
    return db.session.get(ProductVersion, version_id, populate_existing=True)


def _events(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Event).where(Event.name == name))


def test_the_uploader_hears_the_verdict_with_the_scan_email(app, ctx, make_user, run_jobs, mailbox):
    product_id = draft(app, make_user, title="Scanned")
    vendor = owner_of(product_id)
    vendor_id, email = vendor.id, vendor.email
    version = upload(product_id, samples.workflow_bytes())
    run_jobs()
    [notice] = notices(app, vendor_id)
    assert notice.kind == "scan_finished"
    assert notice.title == f"Version 1.0 of Scanned: {_version(version.id).status_label.lower()}"
    assert notice.link == f"/vendor/products/{product_id}/versions"
    [mail] = mailbox.to(email)
    assert subject_of(mail) == notice.title
    text = body_text(mail)
    assert 'Version 1.0 of "Scanned" (flow.json) has been checked' in text  # version_scanned
    assert f"http://localhost/vendor/products/{product_id}/versions" in text
    assert "Stop these emails" in text and mail["List-Unsubscribe"]
    # The job again for the same event: nothing new.
    event_id = db.session.scalar(select(Event.id).where(Event.name == "version.scanned"))
    assert import_path("jobs.assets.notify_version_scanned")(event_id) is False
    assert len(notices(app, vendor_id)) == 1 and len(mailbox.to(email)) == 1

    # Scan emails switched off: the notice still comes, the email does not.
    choose(app, vendor_id, "scan_finished", email=False)
    upload(product_id, workflow("Second"), label="1.1")
    run_jobs()
    assert [n.email_state for n in notices(app, vendor_id)] == [EmailState.SENT, EmailState.NONE]
    assert len(mailbox.to(email)) == 1


def test_owners_with_a_valid_licence_hear_of_a_new_version_once_each(
    app, ctx, make_user, run_jobs, mailbox
):
    product_id = draft(app, make_user, title="Owned", status="approved")
    vendor_id = owner_of(product_id).id
    first = upload(product_id, workflow("One"), label="1.0")
    run_jobs()
    assert _version(first.id).status == "clean"
    assert _events("version.released") == 1  # the first version: nobody owns it yet
    assert notices(app, vendor_id, "new_version") == []

    fan = make_user()
    create_licence(app, make_user, buyer=fan, product_id=product_id)
    create_licence(app, make_user, buyer=fan, product_id=product_id)  # bought twice
    quiet = make_user()
    create_licence(app, make_user, buyer=quiet, product_id=product_id)
    choose(app, quiet.id, "new_version", email=False)
    lapsed = make_user()
    create_licence(
        app, make_user, buyer=lapsed, product_id=product_id, kind="trial", expires_at=utcnow()
    )
    refunded = make_user()
    create_licence(app, make_user, buyer=refunded, product_id=product_id, status="revoked")

    upload(product_id, workflow("Two"), label="1.1")
    run_jobs()
    [notice] = notices(app, fan.id)
    assert notice.kind == "new_version" and notice.title == "Version 1.1 of “Owned” is out"
    assert notice.link == "/library" and notice.body.startswith("Download it from your library.")
    assert "Changes." in notice.body  # the version's changelog
    [mail] = mailbox.to(fan.email)
    assert subject_of(mail) == notice.title and "http://localhost/library" in body_text(mail)
    [silent] = notices(app, quiet.id)
    assert silent.email_state == EmailState.NONE and mailbox.to(quiet.email) == []
    assert notices(app, lapsed.id) == [] and notices(app, refunded.id) == []
    assert notices(app, vendor_id, "new_version") == []
    # One announcement for the version, one notification event per owner (not per licence).
    assert _events("version.released") == 2
    assert _events("notification.requested") == 2


def test_rollbacks_and_republications_are_not_new_versions(app, ctx, make_user, run_jobs):
    product_id = draft(app, make_user, title="Rolled", status="approved")
    vendor = owner_of(product_id)
    first = upload(product_id, workflow("One"), label="1.0")
    second = upload(product_id, workflow("Two"), label="1.1")
    run_jobs()
    owner = make_user()
    create_licence(app, make_user, buyer=owner, product_id=product_id)
    services.publish_version(vendor, _version(first.id))  # roll back to 1.0
    services.publish_version(vendor, _version(second.id))  # and forward to 1.1 again
    db.session.commit()
    dispatch_committed()
    run_jobs()
    assert notices(app, owner.id) == []

    # Kept back at upload, published later by hand: that is the release.
    held = upload(product_id, workflow("Three"), label="1.2", publish_when_clean=False)
    run_jobs()
    assert _version(held.id).status == "clean" and notices(app, owner.id) == []
    services.publish_version(owner_of(product_id), _version(held.id))
    db.session.commit()
    dispatch_committed()
    run_jobs()
    assert [n.title for n in notices(app, owner.id)] == ["Version 1.2 of “Rolled” is out"]


def test_a_version_withdrawn_before_the_announcement_is_announced_to_nobody(
    app, ctx, make_user, run_jobs
):
    product_id = draft(app, make_user, title="Withdrawn", status="approved")
    upload(product_id, workflow("One"), label="1.0")
    run_jobs()
    owner = make_user()
    create_licence(app, make_user, buyer=owner, product_id=product_id)
    version = upload(product_id, workflow("Two"), label="1.1")
    # The scan runs here (its events wait in the session); the vendor withdraws the version
    # before the announcement job has run.
    assert services.scan_version(version.id) == "clean"
    services.yank_version(owner_of(product_id), _version(version.id), "Broke the webhook.")
    db.session.commit()
    dispatch_committed()
    run_jobs()
    assert _events("version.released") == 2
    assert notices(app, owner.id, "new_version") == []
