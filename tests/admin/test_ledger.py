"""The admin ledger page: totals per currency and per account against numbers worked out by
hand from seeded sales, a refund and a payout; filters, search, sorting, pages, links to
orders and payouts, the balance line, the htmx fragment and the CSV export."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import timedelta

import pytest

from app.admin import ledger
from app.commerce.models import LedgerEntry, Order, OrderLine
from app.extensions import db
from app.timeutil import utcnow
from app.vendors import payouts
from app.vendors.models import VendorProfile
from tests.catalog.factories import create_product
from tests.conftest import PAYOUT_TEST_KEY
from tests.vendors.factories import at, create_sale, days_ago, refund_line, vendor_id_of


@dataclasses.dataclass
class Seeded:
    alpha: int  # vendor ids
    beta: int
    euro: int
    refunded_order: str  # an order number
    refunded_order_id: int
    payout_id: int
    payout_txn: str


def _seed(app, make_user) -> Seeded:
    """Twenty days ago Alpha sells for 10.00 at 20% and Beta for 25.00 at 10%; ten days ago
    Alpha sells again for 10.00 at 20%, refunded in full five days ago; three days ago a EUR
    store sells for 7.00 at 20%. Beta is paid out today (22.50) and the transfer marked sent."""
    d20, d10, d5, d3 = days_ago(20), days_ago(10), days_ago(5), days_ago(3)
    alpha = create_product(app, make_user, "Alpha flow", store_name="Alpha store")
    beta = create_product(app, make_user, "Beta flow", store_name="Beta store")
    euro = create_product(app, make_user, "Euro flow", currency="EUR")
    buyer = make_user("customer")
    create_sale(app, buyer.id, alpha, at(d20, 10), 1000, 2000)
    create_sale(app, buyer.id, beta, at(d20, 11), 2500, 1000)
    refunded = create_sale(app, buyer.id, alpha, at(d10, 9), 1000, 2000)
    refund_line(app, refunded, at(d5, 15))
    create_sale(app, buyer.id, euro, at(d3, 8), 700, 2000, currency="EUR")
    beta_id = vendor_id_of(app, beta)
    with app.app_context():
        payouts.save_payout_details(
            db.session.get(VendorProfile, beta_id), "bank", "", "IBAN GB33", PAYOUT_TEST_KEY
        )
        db.session.commit()
        config = dataclasses.replace(app.config["APP_CONFIG"], payout_minimum_cents=500)
        (payout_id,) = payouts.run_payouts(config)
        admin = make_user("admin")
        payout = payouts.mark_payout_sent(admin, payout_id, "BARC-1")
        txn = payout.txn
        db.session.commit()
        order = db.session.get(OrderLine, refunded).order
        number, order_id = order.number, order.id
    return Seeded(
        vendor_id_of(app, alpha), beta_id, vendor_id_of(app, euro), number, order_id, payout_id, txn
    )


def _args(**query) -> ledger.LedgerArgs:
    return ledger.ledger_args({k: str(v) for k, v in query.items()})


def _accounts(totals: ledger.LedgerTotals) -> dict[tuple[str, str], tuple[int, int]]:
    return {(t.account, t.currency): (t.rows, t.total) for t in totals.accounts}


def _currencies(totals: ledger.LedgerTotals) -> dict[str, tuple[int, int, int]]:
    return {t.currency: (t.rows, t.debits, t.credits) for t in totals.currencies}


def test_totals_match_the_seeded_sales_refund_and_payout(app, make_user, monkeypatch):
    s = _seed(app, make_user)
    with app.app_context():
        totals = ledger.ledger_totals(_args())
        balance = ledger.ledger_balance()
    # USD: three sales of 3 rows, a refund of 3, the payout and its transfer of 2 each.
    # Debits: -10 -25 -10 (buyer), -2 -8 (the refund's platform and Alpha legs), -22.50 (Beta
    # paid out), -22.50 (clearing emptied); credits the same, so the net is 0.
    assert _currencies(totals) == {"USD": (16, -10000, 10000), "EUR": (3, -700, 700)}
    assert all(t.net == 0 for t in totals.currencies)
    assert _accounts(totals) == {
        ("buyer", "USD"): (4, -3500),  # 45.00 paid, 10.00 back
        ("platform", "USD"): (4, 450),  # 2.00 + 2.50 + 2.00 - 2.00
        (f"vendor:{s.alpha}", "USD"): (3, 800),  # 8.00 + 8.00 - 8.00
        (f"vendor:{s.beta}", "USD"): (2, 0),  # 22.50 earned, 22.50 paid out
        ("payouts_clearing", "USD"): (2, 0),
        ("payouts_sent", "USD"): (1, 2250),
        ("buyer", "EUR"): (1, -700),
        ("platform", "EUR"): (1, 140),
        (f"vendor:{s.euro}", "EUR"): (1, 560),
    }
    assert not totals.more_accounts
    with app.app_context():
        monkeypatch.setattr(ledger, "ACCOUNT_TOTALS_LIMIT", 4)
        cut = ledger.ledger_totals(_args())
    assert cut.more_accounts and [(t.currency, t.account) for t in cut.accounts] == [
        ("EUR", "buyer"),
        ("EUR", "platform"),
        ("EUR", f"vendor:{s.euro}"),
        ("USD", "buyer"),
    ]
    assert balance.balances and balance.sums == {"EUR": 0, "USD": 0}
    assert balance.unbalanced_txns == 0


def test_filters_narrow_the_rows_and_their_totals(app, make_user):
    s = _seed(app, make_user)
    with app.app_context():
        vendors = ledger.ledger_totals(_args(filter="vendor"))
        refunds = ledger.ledger_totals(_args(kind="refund"))
        euros = ledger.ledger_totals(_args(currency="eur"))
        payouts_only = ledger.ledger_totals(_args(filter="payouts_sent"))
        # The refund (five days ago) and the EUR sale (three), not the payout's days if
        # the range ends before today.
        window = ledger.ledger_totals(_args(start=days_ago(6), end=days_ago(1)))
        by_order = ledger.ledger_page(_args(q=s.refunded_order.lower()))
        by_txn = ledger.ledger_totals(_args(q="payout:"))
        by_account = ledger.ledger_totals(_args(q=f"vendor:{s.alpha}"))
        nothing = ledger.ledger_page(_args(q="no-such-thing"))
        today = ledger.ledger_totals(_args(start=utcnow().date(), end=utcnow().date()))
    assert _currencies(vendors) == {"USD": (5, -2250 - 800, 800 + 2250 + 800), "EUR": (1, 0, 560)}
    assert set(a for a, _ in _accounts(vendors)) == {
        f"vendor:{s.alpha}",
        f"vendor:{s.beta}",
        f"vendor:{s.euro}",
    }
    assert _currencies(refunds) == {"USD": (3, -1000, 1000)}
    assert _currencies(euros) == {"EUR": (3, -700, 700)}
    assert _accounts(payouts_only) == {("payouts_sent", "USD"): (1, 2250)}
    assert _currencies(window) == {"USD": (3, -1000, 1000), "EUR": (3, -700, 700)}
    assert by_order.total == 6  # the sale and its refund
    assert {row.order_number for row in by_order.items} == {s.refunded_order}
    assert _currencies(by_txn) == {"USD": (4, -4500, 4500)}
    assert _accounts(by_account) == {(f"vendor:{s.alpha}", "USD"): (3, 800)}
    assert nothing.total == 0 and nothing.items == []
    assert _accounts(today) == {
        (f"vendor:{s.beta}", "USD"): (1, -2250),
        ("payouts_clearing", "USD"): (2, 0),
        ("payouts_sent", "USD"): (1, 2250),
    }


def test_sorting_pages_and_links(app, make_user, monkeypatch):
    s = _seed(app, make_user)
    with app.app_context():
        cheapest = ledger.ledger_page(_args(sort="amount", dir="asc"))
        dearest = ledger.ledger_page(_args(sort="amount"))
        oldest = ledger.ledger_page(_args(sort="created", dir="asc"))
        monkeypatch.setattr(ledger, "LEDGER_PAGE_SIZE", 5)
        second = ledger.ledger_page(_args(currency="USD", page=2))
        last = ledger.ledger_page(_args(currency="USD", page=99))
    amounts = [row.entry.amount_cents for row in cheapest.items]
    assert amounts == sorted(amounts) and amounts[0] == -2500
    assert dearest.items[0].entry.amount_cents == 2250
    times = [row.entry.created_at for row in oldest.items]
    assert times == sorted(times)
    assert (second.page, second.pages, second.total, len(second.items)) == (2, 4, 16, 5)
    assert (last.page, len(last.items)) == (4, 1)  # clamped to the last page
    rows = cheapest.items
    payout_rows = [r for r in rows if r.entry.txn.startswith("payout:")]
    assert len(payout_rows) == 4 and {r.payout_id for r in payout_rows} == {s.payout_id}
    assert {r.payout_txn for r in payout_rows} == {s.payout_txn}
    assert all(r.order_number is None for r in payout_rows)
    sale_rows = [r for r in rows if r.entry.order_id is not None]
    assert len(sale_rows) == 15 and all(r.order_number and r.payout_id is None for r in sale_rows)


def test_an_unbalanced_transaction_is_shown(app, make_user, client, login_as):
    _seed(app, make_user)
    with app.app_context():
        db.session.add(
            LedgerEntry(
                txn="broken:1", account="platform", amount_cents=5, currency="USD", kind="x"
            )
        )
        db.session.commit()
        balance = ledger.ledger_balance()
    assert not balance.balances
    assert (balance.sums, balance.unbalanced_txns) == ({"EUR": 0, "USD": 5}, 1)
    login_as("admin")
    text = client.get("/admin/ledger").text
    assert "The ledger does not balance" in text and "1 transaction(s)" in text


def test_bad_dates_are_refused():
    for query in ({"start": "yesterday"}, {"start": "2026-02-02", "end": "2026-02-01"}):
        with pytest.raises(ledger.InvalidLedgerFilter):
            ledger.ledger_args(query)
    args = ledger.ledger_args({"start": "2026-02-01", "end": "2026-02-01", "currency": "usd"})
    assert args.extra() == {"currency": "USD", "start": "2026-02-01", "end": "2026-02-01"}


def test_the_page_its_fragment_and_links(app, client, login_as, make_user, monkeypatch):
    s = _seed(app, make_user)
    login_as("admin")
    page = client.get("/admin/ledger")
    assert page.status_code == 200
    text = page.text
    assert 'aria-current="page">Ledger' in text
    assert "The ledger balances" in text
    assert f'href="/orders/{s.refunded_order_id}">Order {s.refunded_order}' in text
    assert f"Payout #{s.payout_id}" in text and f"q={s.payout_txn}&amp;filter=" in text
    assert "$22.50" in text and "-$35.00" in text  # Beta's payout, the buyer's USD total
    # The payout's link finds it on the payouts page, whatever its status.
    payouts_page = client.get(f"/admin/payouts?q={s.payout_txn}&filter=")
    assert f"#{s.payout_id}" in payouts_page.text and "BARC-1" in payouts_page.text

    fragment = client.get(
        "/admin/ledger?filter=vendor&currency=EUR", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="results"')
    assert "The ledger balances" not in fragment.text  # the balance line stays outside
    assert f"vendor:{s.euro}" in fragment.text and f"vendor:{s.alpha}" not in fragment.text
    assert "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]

    # The pager keeps the ledger's own filters.
    monkeypatch.setattr(ledger, "LEDGER_PAGE_SIZE", 2)
    paged = client.get("/admin/ledger?currency=USD&kind=refund&start=2020-01-01").text
    assert "currency=USD" in paged.split('rel="next"')[0].rsplit("<a", 1)[1]
    assert "kind=refund" in paged.split('rel="next"')[0].rsplit("<a", 1)[1]

    bad = client.get("/admin/ledger?start=2026-02-02&end=2026-02-01")
    assert bad.status_code == 422 and "start date comes before the end date" in bad.text


def test_the_csv_exports_every_filtered_row(app, client, login_as, make_user):
    s = _seed(app, make_user)
    with app.app_context():
        # A cell a spreadsheet would run as a formula.
        order = db.session.get(Order, s.refunded_order_id)
        db.session.add(
            LedgerEntry(
                txn="=HYPERLINK(1)",
                account="platform",
                amount_cents=0,
                currency="USD",
                kind="note",
                order_id=order.id,
                created_at=utcnow() - timedelta(days=30),
            )
        )
        db.session.commit()
    login_as("admin")
    page = client.get("/admin/ledger?currency=USD&sort=amount&dir=asc")
    assert 'href="/admin/ledger.csv?sort=amount&amp;dir=asc&amp;currency=USD"' in page.text
    export = client.get("/admin/ledger.csv?currency=USD&sort=amount&dir=asc")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "ledger.csv" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ledger.CSV_HEADER
    body = rows[1:]
    assert len(body) == 17 and all(r[6] == "USD" for r in body)
    assert sum(int(r[5]) for r in body) == 0
    assert [int(r[5]) for r in body] == sorted(int(r[5]) for r in body)
    assert next(r[2:5] for r in body if r[4] == "note") == ["'=HYPERLINK(1)", "platform", "note"]
    assert {r[8] for r in body if r[2].startswith("payout:")} == {str(s.payout_id)}
    assert {r[7] for r in body if r[2].startswith("refund:")} == {s.refunded_order}

    refunds = list(csv.reader(io.StringIO(client.get("/admin/ledger.csv?kind=refund").text)))
    assert len(refunds) == 4
    assert client.get("/admin/ledger.csv?end=someday").status_code == 422
