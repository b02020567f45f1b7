"""The demo seed's purchases: keys, invoices, downloads and the demo vendor's sales, through the
services; idempotent piece by piece."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import delete, func, select

from app import create_app
from app.accounts.models import User
from app.commerce import ledger
from app.commerce.models import Order, Subscription
from app.downloads.models import DownloadLog
from app.downloads.services import downloadable_file
from app.extensions import db
from app.licensing.models import Licence
from app.vendors.models import VendorProfile
from tests.commerce.conftest import assert_ledger_balanced
from tests.conftest import local_env

CUSTOMER = "customer@demo.autopilot.monster"


def _seed(app) -> str:
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return result.output


def _customer() -> User:
    return db.session.scalar(select(User).where(User.email == CUSTOMER))


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        customer = _customer()
        return (
            db.session.scalar(select(func.count()).select_from(Order)),
            db.session.scalar(select(func.count()).select_from(Licence)),
            db.session.scalar(
                select(func.count())
                .select_from(DownloadLog)
                .where(DownloadLog.user_id == customer.id)
            ),
        )


def test_the_demo_customer_owns_products_and_the_demo_vendor_has_sales(app, run_jobs):
    _seed(app)
    run_jobs()  # the uploads' scans (in the workers, with Redis)
    output = _seed(app)  # the files are clean now: their downloads are logged
    assert "exists: the demo customer's paid order" in output
    assert "exists: the demo customer's subscription" in output
    with app.app_context():
        customer = _customer()
        orders = list(db.session.scalars(select(Order).where(Order.buyer_id == customer.id)))
        # A free, a paid and a subscription order, and the free product the customer reviews.
        assert len(orders) == 4 and {o.status for o in orders} == {"paid"}
        assert sorted(o.invoice_number or 0 for o in orders) == [0, 0, 1, 2]
        licences = list(db.session.scalars(select(Licence).where(Licence.user_id == customer.id)))
        assert sorted(licence.kind for licence in licences) == [
            "perpetual",
            "perpetual",
            "perpetual",
            "subscription",
        ]
        assert all(licence.key for licence in licences)
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
        # Every owned product with a file (the reviewed sheet has none): one download each,
        # logged and counted.
        with_file = [lic for lic in licences if downloadable_file(lic.product) is not None]
        assert len(with_file) == 3
        logs = list(
            db.session.scalars(select(DownloadLog).where(DownloadLog.user_id == customer.id))
        )
        assert sorted(log.licence_id for log in logs) == sorted(lic.id for lic in with_file)
        assert all(log.bytes > 0 and log.version_label for log in logs)
        assert all(lic.download_count == 1 for lic in with_file)
        vera = db.session.scalar(
            select(VendorProfile.id)
            .join(User, User.id == VendorProfile.user_id)
            .where(User.email == "vendor@demo.autopilot.monster")
        )
        assert ledger.vendor_earnings(vera)[0].balance > 0
    assert_ledger_balanced(app)
    # Once more: nothing new.
    before = _counts(app)
    _seed(app)
    assert _counts(app) == before


def test_a_partial_demo_is_filled_in(app, run_jobs):
    _seed(app)
    run_jobs()
    _seed(app)
    with app.app_context():
        customer = _customer()
        db.session.execute(delete(DownloadLog).where(DownloadLog.user_id == customer.id))
        db.session.commit()
    orders, licences, _ = _counts(app)
    output = _seed(app)
    assert "downloads: 3 logged" in output
    assert _counts(app) == (orders, licences, 3)


def test_make_run_without_redis_downloads_in_the_first_seed(tmp_path):
    """`make run` has no Redis: the scans run in the seed itself, so one run is enough."""
    local = create_app(env=local_env(tmp_path))
    with local.app_context():
        upgrade()
    try:
        assert "downloads: 3 logged" in _seed(local)
    finally:
        with local.app_context():
            db.engine.dispose()
