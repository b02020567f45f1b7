"""A local Stripe for tests: the endpoints StripeProvider calls, with their state, Stripe's
idempotency rules and webhook deliveries signed exactly as Stripe signs them.

    fake = StripeFake(); fake.start()          # or the ``stripe_fake`` fixture
    provider = fake.provider()                 # a StripeProvider pointed at the fake
    env = fake.app_env()                       # STRIPE_* settings for an app under test
    session = provider.create_checkout(request)
    for delivery in fake.complete_session(session.session_ref):   # the buyer pays
        client.post("/webhooks/stripe", data=delivery.payload, headers=delivery.headers)

Endpoints: products (create with id, retrieve, update), prices (create, list, update),
checkout sessions (create, retrieve), refunds (create), invoice payments (list), subscriptions
(retrieve, cancel), transfers to connected accounts (create; a destination in
``refused_destinations`` is refused as Stripe refuses a closed or unknown account); anything
else answers 404 as Stripe does. Requests are recorded in ``calls`` (``writes()`` for POST
and DELETE) with their ``Idempotency-Key``; a key seen before with the same request replays
the first answer, with another request it is refused (400, ``idempotency_error``), as on
Stripe. Every event the fake produces (from the helpers below or
from an API call such as a refund or a cancellation) is appended to ``deliveries``; the
helpers also return theirs, in the order Stripe sends them.

Helpers (each returns ``list[Delivery]``): ``complete_session(id, async_payment=False)``,
``settle_async(id, succeeded=True)``, ``renew(subscription_id, paid=True)``,
``cancel(subscription_id)``, ``refund(payment_ref, amount=None)``. ``event(type, obj,
previous_attributes=None)`` makes any one delivery; ``sign(payload, timestamp=None,
secret=None)`` the headers for a body (stale or forged ones for tests). ``fail_next`` and
``hang_next`` make the next requests fail or time out. Objects are plain dicts in the shape of
the stripe library's API version (``stripe.api_version``); read them in ``products``,
``prices``, ``sessions``, ``subscriptions``, ``invoices``, ``payment_intents``, ``charges``,
``refunds``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

import stripe
from werkzeug.wrappers import Request

from tests.support.fake_http import Call, Delivery, FakeServer

PERIODS = {"month": 30 * 86400, "year": 365 * 86400}


class StripeError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, kind: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.kind = kind or "invalid_request_error"


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(10)}"


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _lists(value) for key, value in node.items()}
        if node and all(key.isdigit() for key in node):
            return [node[key] for key in sorted(node, key=int)]
    return node


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw is None:
        if default is None:
            raise StripeError(400, f"Missing required param: {name}.", "parameter_missing")
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {raw}", "parameter_invalid_integer") from None


def _bool(raw: Any) -> bool:
    return str(raw).lower() == "true"


class StripeFake(FakeServer):
    SECRET_KEY = "sk_test_autopilot_fake"
    WEBHOOK_SECRET = "whsec_autopilot_fake_secret"

    def __init__(self) -> None:
        super().__init__()
        self._reset_state()

    # -- configuration for code under test --------------------------------------------------

    def app_env(self) -> dict[str, str]:
        """The settings that point an app at this fake."""
        return {
            "STRIPE_SECRET_KEY": self.SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": self.WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.url,
        }

    def provider(self, **options: Any):
        """A StripeProvider on this fake (options: timeout, max_network_retries)."""
        from app.commerce.providers.stripe import StripeProvider

        options.setdefault("timeout", 5.0)
        return StripeProvider(self.SECRET_KEY, self.WEBHOOK_SECRET, api_base=self.url, **options)

    # -- webhooks ---------------------------------------------------------------------------

    def sign(
        self, payload: bytes, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Headers for ``payload`` as Stripe sends them: ``Stripe-Signature: t=...,v1=...``,
        v1 the HMAC-SHA256 hex of ``b"<t>." + payload`` with the endpoint's secret."""
        t = int(time.time()) if timestamp is None else timestamp
        key = (secret or self.WEBHOOK_SECRET).encode()
        signature = hmac.new(key, f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}

    def event(
        self,
        type_: str,
        obj: dict[str, Any],
        previous_attributes: dict[str, Any] | None = None,
    ) -> Delivery:
        """One signed delivery of an event of ``type_`` about ``obj`` (appended to
        ``deliveries``)."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        body = {
            "id": _id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        payload = json.dumps(body).encode()
        return self._record([Delivery(type_, payload, self.sign(payload))])[0]

    # -- what buyers and Stripe do ------------------------------------------------------------

    def complete_session(self, session_id: str, async_payment: bool = False) -> list[Delivery]:
        """The buyer pays the Checkout Session. Mode payment: a PaymentIntent and its charge
        (``async_payment``: still processing, the session completes unpaid). Mode
        subscription: a customer, the subscription and its first invoice, paid."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"{session_id} is {session['status']}")
            extras = self._session_extras[session_id]
            now = int(time.time())
            customer = {"id": _id("cus"), "object": "customer", "email": session["customer_email"]}
            self.customers[customer["id"]] = customer
            session.update(status="complete", customer=customer["id"])
            if session["mode"] == "payment":
                intent, charge = self._payment(
                    session["amount_total"], session["currency"], extras["payment_metadata"]
                )
                session["payment_intent"] = intent["id"]
                if async_payment:
                    intent["status"], intent["amount_received"] = "processing", 0
                    charge["status"], charge["paid"] = "pending", False
                    return [self.event("checkout.session.completed", session)]
                session["payment_status"] = "paid"
                return [
                    self.event("charge.succeeded", charge),
                    self.event("payment_intent.succeeded", intent),
                    self.event("checkout.session.completed", session),
                ]
            if async_payment:
                raise NotImplementedError("the fake settles subscriptions' first payment at once")
            lines = self._line_items[session_id]
            metadata = extras["subscription_metadata"]
            items = [
                {
                    "id": _id("si"),
                    "object": "subscription_item",
                    "price": copy.deepcopy(line["price"]),
                    "quantity": 1,
                    "current_period_start": now,
                    "current_period_end": now + PERIODS[line["price"]["recurring"]["interval"]],
                }
                for line in lines
                if line["price"].get("recurring")
            ]
            subscription = {
                "id": _id("sub"),
                "object": "subscription",
                "status": "active",
                "customer": customer["id"],
                "metadata": dict(metadata),
                "items": {"object": "list", "data": items, "has_more": False},
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ended_at": None,
                "created": now,
                "currency": session["currency"],
                "latest_invoice": None,
            }
            self.subscriptions[subscription["id"]] = subscription
            invoice = self._invoice(subscription, lines, "subscription_create", paid=True)
            session.update(
                payment_status="paid", subscription=subscription["id"], invoice=invoice["id"]
            )
            return [
                self.event("customer.subscription.created", subscription),
                self.event("invoice.paid", invoice),
                self.event("invoice.payment_succeeded", invoice),
                self.event("checkout.session.completed", session),
            ]

    def settle_async(self, session_id: str, succeeded: bool = True) -> list[Delivery]:
        """The delayed payment of a session completed with ``async_payment`` settles."""
        with self._lock:
            session = self.sessions[session_id]
            intent = self.payment_intents[session["payment_intent"]]
            charge = self.charges[intent["latest_charge"]]
            if succeeded:
                intent["status"], intent["amount_received"] = "succeeded", intent["amount"]
                charge["status"], charge["paid"] = "succeeded", True
                session["payment_status"] = "paid"
                return [
                    self.event("payment_intent.succeeded", intent),
                    self.event("checkout.session.async_payment_succeeded", session),
                ]
            intent["status"] = "requires_payment_method"
            charge["status"] = "failed"
            return [
                self.event("payment_intent.payment_failed", intent),
                self.event("checkout.session.async_payment_failed", session),
            ]

    def renew(self, subscription_id: str, paid: bool = True) -> list[Delivery]:
        """The next period starts: an invoice for the subscription's prices (billing_reason
        ``subscription_cycle``), paid, or failed (the subscription turns ``past_due``)."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            previous = {"items": copy.deepcopy(subscription["items"])}
            for item in subscription["items"]["data"]:
                length = PERIODS[item["price"]["recurring"]["interval"]]
                item["current_period_start"] = item["current_period_end"]
                item["current_period_end"] += length
            lines = [{"price": item["price"]} for item in subscription["items"]["data"]]
            invoice = self._invoice(subscription, lines, "subscription_cycle", paid=paid)
            if paid:
                if subscription["status"] == "past_due":  # paid at last: Stripe resumes it
                    previous["status"] = subscription["status"]
                    subscription["status"] = "active"
                return [
                    self.event("invoice.paid", invoice),
                    self.event("invoice.payment_succeeded", invoice),
                    self.event("customer.subscription.updated", subscription, previous),
                ]
            previous["status"] = subscription["status"]
            subscription["status"] = "past_due"
            return [
                self.event("invoice.payment_failed", invoice),
                self.event("customer.subscription.updated", subscription, previous),
            ]

    def cancel(self, subscription_id: str) -> list[Delivery]:
        """The subscription ends (the buyer or the dashboard cancelled it)."""
        with self._lock:
            return [self._cancel(self.subscriptions[subscription_id])]

    def refund(self, payment_ref: str, amount: int | None = None) -> list[Delivery]:
        """A refund from the dashboard of a PaymentIntent, Charge or paid Invoice (all that is
        left when ``amount`` is None)."""
        with self._lock:
            if payment_ref.startswith("in_"):
                payment_ref = self._invoice_intent(payment_ref)
            params: dict[str, Any] = {"metadata": {}}
            params["charge" if payment_ref.startswith("ch_") else "payment_intent"] = payment_ref
            if amount is not None:
                params["amount"] = str(amount)
            before = len(self.deliveries)
            self._create_refund(params)
            return self.deliveries[before:]

    # -- state ------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self.products: dict[str, dict] = {}
        self.prices: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.invoice_payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self._line_items: dict[str, list[dict]] = {}
        self._session_extras: dict[str, dict] = {}
        self._idempotent: dict[str, tuple[tuple, int, Any]] = {}
        self.transfers: dict[str, dict] = {}
        self.refused_destinations: set[str] = set()

    def _payment(self, amount: int, currency: str, metadata: dict) -> tuple[dict, dict]:
        now = int(time.time())
        intent = {
            "id": _id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": currency,
            "status": "succeeded",
            "metadata": dict(metadata),
            "latest_charge": None,
            "created": now,
        }
        charge = {
            "id": _id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "refunded": False,
            "captured": True,
            "paid": True,
            "status": "succeeded",
            "currency": currency,
            "payment_intent": intent["id"],
            # Charges do not repeat the PaymentIntent's metadata: nothing here names the order.
            "metadata": {},
            "balance_transaction": _id("txn"),
            "created": now,
        }
        intent["latest_charge"] = charge["id"]
        self.payment_intents[intent["id"]] = intent
        self.charges[charge["id"]] = charge
        return intent, charge

    def _invoice(self, subscription: dict, lines: list[dict], reason: str, paid: bool) -> dict:
        now = int(time.time())
        periods = {
            item["price"]["id"]: (item["current_period_start"], item["current_period_end"])
            for item in subscription["items"]["data"]
        }
        invoice_lines = []
        for line in lines:
            price = line["price"]
            start, end = periods.get(price.get("id"), (now, now))
            invoice_lines.append(
                {
                    "id": _id("il"),
                    "object": "line_item",
                    "amount": price["unit_amount"],
                    "currency": price["currency"],
                    "description": line.get("name") or price.get("lookup_key"),
                    "period": {"start": start, "end": end},
                }
            )
        total = sum(line["amount"] for line in invoice_lines)
        invoice = {
            "id": _id("in"),
            "object": "invoice",
            "billing_reason": reason,
            "currency": subscription["currency"],
            "customer": subscription["customer"],
            "amount_due": total,
            "amount_paid": total if paid else 0,
            "amount_remaining": 0 if paid else total,
            "status": "paid" if paid else "open",
            "attempt_count": 1,
            "lines": {"object": "list", "data": invoice_lines, "has_more": False},
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "subscription": subscription["id"],
                    "metadata": dict(subscription["metadata"]),
                },
            },
            "created": now,
        }
        self.invoices[invoice["id"]] = invoice
        subscription["latest_invoice"] = invoice["id"]
        if paid:
            intent, _charge = self._payment(total, invoice["currency"], {})
            payment = {
                "id": _id("inpay"),
                "object": "invoice_payment",
                "invoice": invoice["id"],
                "amount_paid": total,
                "amount_requested": total,
                "currency": invoice["currency"],
                "is_default": True,
                "status": "paid",
                "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                "created": now,
            }
            self.invoice_payments[payment["id"]] = payment
        return invoice

    def _invoice_intent(self, invoice_id: str) -> str:
        for payment in self.invoice_payments.values():
            if payment["invoice"] == invoice_id and payment["status"] == "paid":
                return payment["payment"]["payment_intent"]
        raise ValueError(f"{invoice_id} has no paid payment")

    def _cancel(self, subscription: dict) -> Delivery:
        now = int(time.time())
        subscription.update(status="canceled", canceled_at=now, ended_at=now)
        return self.event("customer.subscription.deleted", subscription)

    # -- HTTP -------------------------------------------------------------------------------

    def _decode(self, request: Request) -> dict[str, Any]:
        if request.method == "GET" or request.method == "DELETE":
            return _nest(list(request.args.items(multi=True)))
        return _nest(list(request.form.items(multi=True)))

    def _error(self, status: int, message: str) -> dict[str, Any]:
        kind = "api_error" if status >= 500 else "invalid_request_error"
        return {"error": {"type": kind, "message": message}}

    def _dispatch(self, call: Call) -> tuple[int, Any]:
        if call.method == "GET" and call.path.startswith("/c/pay/"):
            return 200, f"<h1>Stripe test checkout {call.path.rsplit('/', 1)[-1]}</h1>"
        if call.headers.get("Authorization") != f"Bearer {self.SECRET_KEY}":
            return 401, self._error(401, "Invalid API Key provided.")
        replay = None
        if call.is_write and call.idempotency_key:
            replay = self._idempotent.get(call.idempotency_key)
            request = (call.method, call.path, json.dumps(call.params, sort_keys=True))
            if replay is not None:
                if replay[0] != request:
                    return 400, {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the "
                            "same parameters they were first used with.",
                        }
                    }
                return replay[1], replay[2]
        try:
            status, body = 200, self._route(call)
        except StripeError as exc:
            error = {"type": exc.kind, "message": exc.message}
            if exc.code:
                error["code"] = exc.code
            status, body = exc.status, {"error": error}
        if call.is_write and call.idempotency_key and status < 500:
            self._idempotent[call.idempotency_key] = (request, status, copy.deepcopy(body))
        return status, body

    def _route(self, call: Call) -> Any:
        method, path, params = call.method, call.path, call.params
        routes: list[tuple[str, str, Any]] = [
            ("POST", r"/v1/products", self._create_product),
            ("GET", r"/v1/products/([^/]+)", self._get_product),
            ("POST", r"/v1/products/([^/]+)", self._update_product),
            ("GET", r"/v1/prices", self._list_prices),
            ("POST", r"/v1/prices", self._create_price),
            ("POST", r"/v1/prices/([^/]+)", self._update_price),
            ("POST", r"/v1/checkout/sessions", self._create_session),
            ("GET", r"/v1/checkout/sessions/([^/]+)", self._get_session),
            ("POST", r"/v1/refunds", self._create_refund),
            ("GET", r"/v1/invoice_payments", self._list_invoice_payments),
            ("GET", r"/v1/subscriptions/([^/]+)", self._get_subscription),
            ("DELETE", r"/v1/subscriptions/([^/]+)", self._delete_subscription),
            ("POST", r"/v1/transfers", self._create_transfer),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(params, *match.groups())
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    @staticmethod
    def _missing(kind: str, ref: str) -> StripeError:
        return StripeError(404, f"No such {kind}: '{ref}'", "resource_missing")

    def _create_product(self, params: dict) -> dict:
        product_id = params.get("id") or _id("prod")
        if product_id in self.products:
            raise StripeError(400, "Product already exists.", "resource_already_exists")
        if not params.get("name"):
            raise StripeError(400, "Missing required param: name.", "parameter_missing")
        product = {
            "id": product_id,
            "object": "product",
            "name": params["name"],
            "active": _bool(params.get("active", "true")),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        self.products[product_id] = product
        return product

    def _get_product(self, params: dict, product_id: str) -> dict:
        if product_id not in self.products:
            raise self._missing("product", product_id)
        return self.products[product_id]

    def _update_product(self, params: dict, product_id: str) -> dict:
        product = self._get_product(params, product_id)
        if "name" in params:
            product["name"] = params["name"]
        if "active" in params:
            product["active"] = _bool(params["active"])
        product["metadata"].update(params.get("metadata") or {})
        return product

    def _create_price(self, params: dict) -> dict:
        product_id = params.get("product")
        if product_id not in self.products:
            raise self._missing("product", str(product_id))
        lookup_key = params.get("lookup_key")
        if lookup_key:
            holder = next((p for p in self.prices.values() if p["lookup_key"] == lookup_key), None)
            if holder is not None:
                if not _bool(params.get("transfer_lookup_key")):
                    raise StripeError(
                        400,
                        f"A price (`{holder['id']}`) already uses that lookup key.",
                        "lookup_key_exists",
                    )
                holder["lookup_key"] = None
        recurring = params.get("recurring")
        if recurring and recurring.get("interval") not in PERIODS:
            raise StripeError(400, "Invalid recurring[interval].", "parameter_invalid")
        price = {
            "id": _id("price"),
            "object": "price",
            "active": True,
            "currency": str(params.get("currency", "")).lower(),
            "unit_amount": _int(params, "unit_amount"),
            "product": product_id,
            "recurring": {"interval": recurring["interval"], "interval_count": 1}
            if recurring
            else None,
            "type": "recurring" if recurring else "one_time",
            "lookup_key": lookup_key,
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        self.prices[price["id"]] = price
        return price

    def _update_price(self, params: dict, price_id: str) -> dict:
        price = self.prices.get(price_id)
        if price is None:
            raise self._missing("price", price_id)
        if "active" in params:
            price["active"] = _bool(params["active"])
        price["metadata"].update(params.get("metadata") or {})
        return price

    def _list_prices(self, params: dict) -> dict:
        prices = list(reversed(self.prices.values()))  # newest first, as Stripe lists
        if params.get("product"):
            prices = [p for p in prices if p["product"] == params["product"]]
        if params.get("type"):
            prices = [p for p in prices if p["type"] == params["type"]]
        if "active" in params:
            prices = [p for p in prices if p["active"] == _bool(params["active"])]
        if params.get("lookup_keys"):
            prices = [p for p in prices if p["lookup_key"] in params["lookup_keys"]]
        return self._page(prices, params, "/v1/prices")

    def _page(self, objects: list[dict], params: dict, url: str) -> dict:
        limit = _int(params, "limit", 10)
        after = params.get("starting_after")
        if after:
            ids = [o["id"] for o in objects]
            objects = objects[ids.index(after) + 1 :] if after in ids else []
        return {
            "object": "list",
            "data": objects[:limit],
            "has_more": len(objects) > limit,
            "url": url,
        }

    def _create_session(self, params: dict) -> dict:
        mode = params.get("mode")
        if mode not in ("payment", "subscription"):
            raise StripeError(400, "Invalid mode: must be payment or subscription.")
        for name in ("success_url", "line_items"):
            if not params.get(name):
                raise StripeError(400, f"Missing required param: {name}.", "parameter_missing")
        lines = []
        for index, line in enumerate(params["line_items"]):
            if _int(line, "quantity", 1) != 1:
                raise StripeError(400, "The fake takes quantity 1 only.")
            if "price" in line:
                price = self.prices.get(line["price"])
                if price is None:
                    raise self._missing("price", line["price"])
                if not price["active"]:
                    raise StripeError(400, f"The price `{price['id']}` is not active.")
                if price["recurring"] and mode == "payment":
                    raise StripeError(
                        400,
                        "You specified `payment` mode but passed a recurring price. Either "
                        "switch to `subscription` mode or use only one-time prices.",
                    )
                lines.append({"price": price, "name": self.products[price["product"]]["name"]})
            elif "price_data" in line:
                data = line["price_data"]
                if data.get("recurring"):
                    raise StripeError(400, "The fake takes recurring prices by id only.")
                name = (data.get("product_data") or {}).get("name")
                if not name:
                    raise StripeError(
                        400, f"Missing line_items[{index}][price_data][product_data][name]."
                    )
                price = {
                    "id": None,
                    "currency": str(data.get("currency", "")).lower(),
                    "unit_amount": _int(data, "unit_amount"),
                    "recurring": None,
                }
                lines.append({"price": price, "name": name})
            else:
                raise StripeError(400, f"line_items[{index}] needs price or price_data.")
        currencies = {line["price"]["currency"] for line in lines}
        if len(currencies) != 1:
            raise StripeError(400, "All line items must use the same currency.")
        if mode == "subscription" and not any(line["price"]["recurring"] for line in lines):
            raise StripeError(400, "Subscription mode needs at least one recurring price.")
        if mode == "payment" and "subscription_data" in params:
            raise StripeError(400, "subscription_data is only for subscription mode.")
        if mode == "subscription" and "payment_intent_data" in params:
            raise StripeError(400, "payment_intent_data is only for payment mode.")
        now = int(time.time())
        session_id = _id("cs")
        total = sum(line["price"]["unit_amount"] for line in lines)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currencies.pop(),
            "customer": None,
            "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.url}/c/pay/{session_id}",
            "payment_intent": None,
            "subscription": None,
            "invoice": None,
            "created": now,
            "expires_at": now + 86400,
            "livemode": False,
        }
        self.sessions[session_id] = session
        self._line_items[session_id] = lines
        self._session_extras[session_id] = {
            "payment_metadata": (params.get("payment_intent_data") or {}).get("metadata") or {},
            "subscription_metadata": (params.get("subscription_data") or {}).get("metadata") or {},
        }
        return session

    def _get_session(self, params: dict, session_id: str) -> dict:
        if session_id not in self.sessions:
            raise self._missing("checkout.session", session_id)
        return self.sessions[session_id]

    def _create_refund(self, params: dict) -> dict:
        if params.get("charge"):
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise self._missing("charge", params["charge"])
        elif params.get("payment_intent"):
            intent = self.payment_intents.get(params["payment_intent"])
            if intent is None:
                raise self._missing("payment_intent", params["payment_intent"])
            charge = self.charges[intent["latest_charge"]]
        else:
            raise StripeError(400, "Missing required param: payment_intent or charge.")
        if charge["status"] != "succeeded":
            raise StripeError(400, f"Charge {charge['id']} has not succeeded.")
        left = charge["amount"] - charge["amount_refunded"]
        amount = _int(params, "amount", left)
        if left == 0:
            raise StripeError(
                400, f"Charge {charge['id']} has already been refunded.", "charge_already_refunded"
            )
        if not 0 < amount <= left:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                "amount_too_large",
            )
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "currency": charge["currency"],
            "status": "succeeded",
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.event("refund.created", refund)
        self.event("charge.refunded", charge, previous)
        return refund

    def _list_invoice_payments(self, params: dict) -> dict:
        payments = list(reversed(self.invoice_payments.values()))
        if params.get("invoice"):
            payments = [p for p in payments if p["invoice"] == params["invoice"]]
        if params.get("status"):
            payments = [p for p in payments if p["status"] == params["status"]]
        wanted = params.get("payment") or {}
        if wanted.get("type"):
            payments = [p for p in payments if p["payment"]["type"] == wanted["type"]]
        if wanted.get("payment_intent"):
            payments = [
                p
                for p in payments
                if p["payment"].get("payment_intent") == wanted["payment_intent"]
            ]
        if not (params.get("invoice") or wanted):
            raise StripeError(400, "Missing required param: invoice or payment.")
        page = self._page(copy.deepcopy(payments), params, "/v1/invoice_payments")
        if "data.invoice" in (params.get("expand") or []):
            for payment in page["data"]:
                payment["invoice"] = copy.deepcopy(self.invoices[payment["invoice"]])
        return page

    def _get_subscription(self, params: dict, subscription_id: str) -> dict:
        if subscription_id not in self.subscriptions:
            raise self._missing("subscription", subscription_id)
        return self.subscriptions[subscription_id]

    def _delete_subscription(self, params: dict, subscription_id: str) -> dict:
        subscription = self._get_subscription(params, subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        self._cancel(subscription)
        return subscription

    def _create_transfer(self, params: dict) -> dict:
        amount = _int(params, "amount")
        if amount < 1:
            raise StripeError(
                400, "This value must be greater than or equal to 1.", "parameter_invalid_integer"
            )
        destination = params.get("destination") or ""
        if not destination:
            raise StripeError(400, "Missing required param: destination.", "parameter_missing")
        if not params.get("currency"):
            raise StripeError(400, "Missing required param: currency.", "parameter_missing")
        if destination in self.refused_destinations or not destination.startswith("acct_"):
            raise StripeError(400, f"No such destination: '{destination}'", "resource_missing")
        transfer = {
            "id": _id("tr"),
            "object": "transfer",
            "amount": amount,
            "currency": params["currency"],
            "destination": destination,
            "transfer_group": params.get("transfer_group"),
            "metadata": params.get("metadata") or {},
            "reversed": False,
            "created": int(time.time()),
        }
        self.transfers[transfer["id"]] = transfer
        return transfer
