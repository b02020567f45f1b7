"""The demo seed's purchases: keys, invoices and the demo vendor's sales, through the services."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.commerce import ledger
from app.commerce.models import Order, Subscription
from app.extensions import db
from app.licensing.models import Licence
from app.vendors.models import VendorProfile
from tests.commerce.conftest import assert_ledger_balanced


def test_the_demo_customer_owns_products_and_the_demo_vendor_has_sales(app):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    again = app.test_cli_runner().invoke(args=["seed"])
    assert "exists: the demo customer's orders" in again.output
    with app.app_context():
        customer = db.session.scalar(
            select(User).where(User.email == "customer@demo.autopilot.monster")
        )
        orders = list(db.session.scalars(select(Order).where(Order.buyer_id == customer.id)))
        assert len(orders) == 3 and {o.status for o in orders} == {"paid"}
        assert sorted(o.invoice_number or 0 for o in orders) == [0, 1, 2]
        kinds = sorted(
            db.session.scalars(select(Licence.kind).where(Licence.user_id == customer.id))
        )
        assert kinds == ["perpetual", "perpetual", "subscription"]
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
        vera = db.session.scalar(
            select(VendorProfile.id)
            .join(User, User.id == VendorProfile.user_id)
            .where(User.email == "vendor@demo.autopilot.monster")
        )
        assert ledger.vendor_earnings(vera)[0].balance > 0
    assert_ledger_balanced(app)
