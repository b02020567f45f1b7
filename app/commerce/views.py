"""Commerce pages: the cart, checkout, orders and invoices, and the providers' webhooks."""

from __future__ import annotations

from flask import Blueprint

from app.commerce import models as models  # noqa: F401  (the tables, for the app's metadata)
from app.licensing import models as licensing_models  # noqa: F401  (idem)

bp = Blueprint("commerce", __name__)
