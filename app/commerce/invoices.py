"""Invoices: the printable page and its PDF (fpdf2), numbered in sequence at payment.

The marketplace issues one invoice per paid order (its number is taken from one counter in
the fulfilling transaction, so numbers have no gaps or repeats); each line names the store
that sold it, with the sellers' and the buyer's details as they were when the order was paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF

from app.accounts.models import User
from app.commerce.models import Order, OrderLine
from app.commerce.services import order_for
from app.errors import NotFound
from app.money import format_money
from app.timeutil import as_utc

ISSUER = "Autopilot Monster"
ISSUER_NOTE = "Marketplace for AI agents and automation assets, selling on behalf of its stores."


@dataclass(frozen=True)
class Invoice:
    order: Order
    label: str
    issued_at: datetime
    buyer: dict[str, Any]
    sellers: dict[int, dict[str, Any]]
    lines: list[OrderLine]

    def seller_of(self, line: OrderLine) -> str:
        return self.sellers.get(line.vendor_id, {}).get("store_name", "")


def invoice_for(user: User, order_id: int) -> Invoice:
    """The invoice of ``user``'s paid order (an admin's: any); NotFound for another user's
    order and for one without an invoice (pending, free)."""
    order = order_for(user, order_id)
    if order.invoice_number is None or order.paid_at is None:
        raise NotFound("This order has no invoice.")
    return Invoice(
        order=order,
        label=order.invoice_label or "",
        issued_at=as_utc(order.paid_at),
        buyer=dict(order.buyer_details or {}),
        sellers={s["vendor_id"]: s for s in order.seller_details or []},
        lines=list(order.lines),
    )


def _pdf_text(text: str) -> str:
    """The core PDF fonts read Latin-1 (cp1252 in practice): anything else is replaced."""
    return str(text).replace("€", "EUR ").encode("latin-1", "replace").decode("latin-1")


def render_pdf(invoice: Invoice) -> bytes:
    """The invoice as a one-or-more-page A4 PDF."""
    order = invoice.order
    money = lambda cents: _pdf_text(format_money(cents, order.currency))  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.label}")
    pdf.set_author(ISSUER)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _pdf_text(f"Invoice {invoice.label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for row in (
        f"Order {order.number}",
        f"Issued {invoice.issued_at:%d %B %Y} (UTC)",
        "",
        f"From: {ISSUER}",
        ISSUER_NOTE,
        "",
        f"Billed to: {invoice.buyer.get('name', '')} <{invoice.buyer.get('email', '')}>",
        "",
        "Sellers:",
        *(
            f"  {s.get('store_name', '')}, {s.get('country', '')}, {s.get('support_email', '')}"
            for s in invoice.sellers.values()
        ),
    ):
        pdf.cell(0, 6, _pdf_text(row), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    widths = (80, 45, 30, 25)
    for width, title in zip(widths, ("Item", "Sold by", "Price", "Discount"), strict=True):
        pdf.cell(width, 8, title, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for line in invoice.lines:
        title = line.title + (f" ({line.interval}ly)" if line.interval else "")
        cells = (title[:48], invoice.seller_of(line)[:26], money(line.list_price_cents))
        for width, text in zip(widths, cells, strict=False):
            pdf.cell(width, 7, _pdf_text(text))
        pdf.cell(widths[3], 7, money(line.discount_cents) if line.discount_cents else "")
        pdf.ln()
    pdf.ln(3)
    totals = [("Subtotal", order.subtotal_cents), ("Discount", -order.discount_cents)]
    totals.append(("Total paid", order.total_cents))
    if order.refunded_cents:
        totals.append(("Refunded", -order.refunded_cents))
    for label, cents in totals:
        pdf.set_font("Helvetica", "B" if label == "Total paid" else "", 10)
        pdf.cell(155, 7, label, align="R")
        pdf.cell(25, 7, money(cents), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
