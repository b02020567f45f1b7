"""A local Razorpay for tests: the endpoints RazorpayProvider calls, with their state, and
webhook deliveries signed exactly as Razorpay signs them.

    fake = RazorpayFake(); fake.start()        # or the ``razorpay_fake`` fixture
    provider = fake.provider()                 # a RazorpayProvider pointed at the fake
    env = fake.app_env()                       # RAZORPAY_* settings for an app under test
    session = provider.create_checkout(request)
    for delivery in fake.pay_link(session.session_ref):           # the buyer pays
        client.post("/webhooks/razorpay", data=delivery.payload, headers=delivery.headers)

Endpoints (basic auth with the fake's key): plans (create, list), subscriptions (create, list,
fetch, cancel), payment links (create, list by reference_id, fetch), refunds of a payment
(create, list). Requests are recorded in ``calls`` (``writes()`` for POSTs). Razorpay's
payment APIs take no idempotency key (``Call.idempotency_key`` is None); the fake enforces the
natural key Razorpay does, a Payment Link's ``reference_id`` (a second link with one is
refused, 400). Every event the fake produces, from the helpers below or from an API call
(a refund, a cancellation), is appended to ``deliveries``; the helpers return theirs, in the
order Razorpay sends them, each with its own ``X-Razorpay-Event-Id``.

Helpers (each returns ``list[Delivery]``): ``pay_link(link_id)``, ``fail_link_payment(link_id)``,
``expire_link(link_id)``, ``authorize_subscription(subscription_id)`` (the first charge),
``renew(subscription_id, paid=True)``, ``halt(subscription_id)``, ``cancel(subscription_id)``,
``refund(payment_id, amount=None)``. ``event(name, **entities)`` makes any one delivery;
``sign(payload, event_id=None, secret=None)`` the headers for a body. ``fail_next`` and
``hang_next`` make the next requests fail or time out. Objects are plain dicts in ``plans``,
``subscriptions``, ``payment_links``, ``orders``, ``payments``, ``refunds``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import time
from typing import Any

from werkzeug.wrappers import Request

from tests.support.fake_http import Call, Delivery, FakeServer

PERIODS = {"daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}
_ALPHABET = string.ascii_letters + string.digits


class RazorpayError(Exception):
    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def _id(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(14))


class RazorpayFake(FakeServer):
    KEY_ID = "rzp_test_autopilotfake"
    KEY_SECRET = "autopilot_fake_key_secret"
    WEBHOOK_SECRET = "autopilot_fake_webhook_secret"
    ACCOUNT_ID = "acc_AutopilotFake01"

    def __init__(self) -> None:
        super().__init__()
        self._reset_state()

    # -- configuration for code under test --------------------------------------------------

    def app_env(self) -> dict[str, str]:
        """The settings that point an app at this fake."""
        return {
            "RAZORPAY_KEY_ID": self.KEY_ID,
            "RAZORPAY_KEY_SECRET": self.KEY_SECRET,
            "RAZORPAY_WEBHOOK_SECRET": self.WEBHOOK_SECRET,
            "RAZORPAY_API_BASE": self.url,
        }

    def provider(self, **options: Any):
        """A RazorpayProvider on this fake (options: timeout, link_lifetime)."""
        from app.commerce.providers.razorpay import RazorpayProvider

        options.setdefault("timeout", 5.0)
        return RazorpayProvider(
            self.KEY_ID, self.KEY_SECRET, self.WEBHOOK_SECRET, api_base=self.url, **options
        )

    # -- webhooks ---------------------------------------------------------------------------

    def sign(
        self, payload: bytes, event_id: str | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Headers for ``payload`` as Razorpay sends them: ``X-Razorpay-Signature`` the
        HMAC-SHA256 hex of the raw body with the webhook secret, and the event's id."""
        key = (secret or self.WEBHOOK_SECRET).encode()
        return {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": hmac.new(key, payload, hashlib.sha256).hexdigest(),
            "X-Razorpay-Event-Id": event_id or _id("evt"),
        }

    def event(self, name: str, **entities: dict[str, Any]) -> Delivery:
        """One signed delivery of event ``name`` about ``entities`` (payload.<key>.entity),
        appended to ``deliveries``."""
        body = {
            "entity": "event",
            "account_id": self.ACCOUNT_ID,
            "event": name,
            "contains": list(entities),
            "payload": {key: {"entity": copy.deepcopy(obj)} for key, obj in entities.items()},
            "created_at": int(time.time()),
        }
        payload = json.dumps(body).encode()
        return self._record([Delivery(name, payload, self.sign(payload))])[0]

    # -- what buyers and Razorpay do ----------------------------------------------------------

    def pay_link(self, link_id: str) -> list[Delivery]:
        """The buyer pays the Payment Link in full."""
        with self._lock:
            link = self.payment_links[link_id]
            if link["status"] != "created":
                raise ValueError(f"{link_id} is {link['status']}")
            order = {
                "id": _id("order"),
                "entity": "order",
                "amount": link["amount"],
                "amount_paid": link["amount"],
                "amount_due": 0,
                "currency": link["currency"],
                "receipt": link["reference_id"],
                "status": "paid",
                "attempts": 1,
                "notes": copy.deepcopy(link["notes"]),
                "created_at": int(time.time()),
            }
            self.orders[order["id"]] = order
            payment = self._payment(link["amount"], link["currency"], order_id=order["id"])
            authorized = dict(payment, status="authorized", captured=False)
            link.update(status="paid", amount_paid=link["amount"], updated_at=int(time.time()))
            link["payments"] = [
                {"payment_id": payment["id"], "amount": payment["amount"], "status": "captured"}
            ]
            return [
                self.event("payment.authorized", payment=authorized),
                self.event("payment.captured", payment=payment),
                self.event("order.paid", payment=payment, order=order),
                self.event("payment_link.paid", payment_link=link, order=order, payment=payment),
            ]

    def fail_link_payment(self, link_id: str) -> list[Delivery]:
        """An attempt to pay the link fails (the link stays payable)."""
        with self._lock:
            link = self.payment_links[link_id]
            payment = self._payment(link["amount"], link["currency"], status="failed")
            return [self.event("payment.failed", payment=payment)]

    def expire_link(self, link_id: str) -> list[Delivery]:
        """The link's ``expire_by`` passes unpaid."""
        with self._lock:
            link = self.payment_links[link_id]
            link.update(status="expired", expired_at=int(time.time()))
            return [self.event("payment_link.expired", payment_link=link)]

    def authorize_subscription(self, subscription_id: str) -> list[Delivery]:
        """The buyer authorises the subscription on its page: the first charge (the plan plus
        the addons), the subscription active for its first period."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            if subscription["status"] != "created":
                raise ValueError(f"{subscription_id} is {subscription['status']}")
            plan = self.plans[subscription["plan_id"]]
            addons = sum(a["item"]["amount"] for a in self._addons.get(subscription_id, []))
            amount = plan["item"]["amount"] * subscription["quantity"] + addons
            payment = self._payment(amount, plan["item"]["currency"], invoice_id=_id("inv"))
            now = int(time.time())
            authenticated = dict(subscription, status="authenticated")
            subscription.update(
                status="active",
                current_start=now,
                current_end=now + PERIODS[plan["period"]],
                charge_at=now + PERIODS[plan["period"]],
                start_at=now,
                paid_count=1,
                remaining_count=subscription["total_count"] - 1,
                auth_attempts=1,
            )
            return [
                self.event("subscription.authenticated", subscription=authenticated),
                self.event("payment.authorized", payment=dict(payment, status="authorized")),
                self.event("payment.captured", payment=payment),
                self.event("subscription.activated", subscription=subscription),
                self.event("subscription.charged", subscription=subscription, payment=payment),
            ]

    def renew(self, subscription_id: str, paid: bool = True) -> list[Delivery]:
        """The next cycle's charge: it succeeds (the period moves on) or fails (the
        subscription turns ``pending`` while Razorpay retries)."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            plan = self.plans[subscription["plan_id"]]
            amount = plan["item"]["amount"] * subscription["quantity"]
            if not paid:
                payment = self._payment(amount, plan["item"]["currency"], status="failed")
                subscription["status"] = "pending"
                return [
                    self.event("payment.failed", payment=payment),
                    self.event("subscription.pending", subscription=subscription, payment=payment),
                ]
            payment = self._payment(amount, plan["item"]["currency"], invoice_id=_id("inv"))
            length = PERIODS[plan["period"]]
            subscription.update(
                status="active",
                current_start=subscription["current_end"],
                current_end=subscription["current_end"] + length,
                charge_at=subscription["current_end"] + length,
                paid_count=subscription["paid_count"] + 1,
                remaining_count=subscription["remaining_count"] - 1,
            )
            return [
                self.event("payment.captured", payment=payment),
                self.event("subscription.charged", subscription=subscription, payment=payment),
            ]

    def halt(self, subscription_id: str) -> list[Delivery]:
        """Razorpay gives up retrying a failed renewal."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            subscription["status"] = "halted"
            return [self.event("subscription.halted", subscription=subscription)]

    def cancel(self, subscription_id: str) -> list[Delivery]:
        """The subscription is cancelled from the dashboard."""
        with self._lock:
            return self._cancel(self.subscriptions[subscription_id])

    def refund(self, payment_id: str, amount: int | None = None) -> list[Delivery]:
        """A refund from the dashboard (all that is left when ``amount`` is None)."""
        with self._lock:
            before = len(self.deliveries)
            params: dict[str, Any] = {"notes": {}}
            if amount is not None:
                params["amount"] = amount
            self._create_refund(params, payment_id)
            return self.deliveries[before:]

    # -- state ------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self.plans: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.payment_links: dict[str, dict] = {}
        self.orders: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self._addons: dict[str, list[dict]] = {}

    def _payment(
        self,
        amount: int,
        currency: str,
        status: str = "captured",
        order_id: str | None = None,
        invoice_id: str | None = None,
    ) -> dict:
        fee = amount * 2 // 100  # 2 %, GST included
        payment = {
            "id": _id("pay"),
            "entity": "payment",
            "amount": amount,
            "currency": currency,
            "status": status,
            "order_id": order_id,
            "invoice_id": invoice_id,
            "international": False,
            "method": "upi",
            "amount_refunded": 0,
            "refund_status": None,
            "captured": status == "captured",
            "description": None,
            "email": "buyer@example.com",
            "contact": "+919000090000",
            "notes": [],
            "fee": fee if status == "captured" else None,
            "tax": fee * 18 // 118 if status == "captured" else None,
            "error_code": "BAD_REQUEST_ERROR" if status == "failed" else None,
            "error_description": "Payment failed" if status == "failed" else None,
            "created_at": int(time.time()),
        }
        self.payments[payment["id"]] = payment
        return payment

    def _cancel(self, subscription: dict) -> list[Delivery]:
        subscription.update(status="cancelled", ended_at=int(time.time()))
        return [self.event("subscription.cancelled", subscription=subscription)]

    # -- HTTP -------------------------------------------------------------------------------

    def _decode(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.args.items())
        body = request.get_data()
        return json.loads(body) if body else {}

    def _error(self, status: int, message: str) -> dict[str, Any]:
        code = "SERVER_ERROR" if status >= 500 else "BAD_REQUEST_ERROR"
        return {"error": {"code": code, "description": message, "source": "NA", "step": "NA"}}

    def _dispatch(self, call: Call) -> tuple[int, Any]:
        if call.method == "GET" and call.path.startswith("/rzp/"):
            return 200, f"<h1>Razorpay test page {call.path.rsplit('/', 1)[-1]}</h1>"
        expected = base64.b64encode(f"{self.KEY_ID}:{self.KEY_SECRET}".encode()).decode()
        if call.headers.get("Authorization") != f"Basic {expected}":
            return 401, self._error(401, "Authentication failed")
        routes: list[tuple[str, str, Any]] = [
            ("POST", r"/v1/plans", self._create_plan),
            ("GET", r"/v1/plans", self._list_plans),
            ("POST", r"/v1/subscriptions", self._create_subscription),
            ("GET", r"/v1/subscriptions", self._list_subscriptions),
            ("GET", r"/v1/subscriptions/([^/]+)", self._get_subscription),
            ("POST", r"/v1/subscriptions/([^/]+)/cancel", self._cancel_subscription),
            ("POST", r"/v1/payment_links", self._create_link),
            ("GET", r"/v1/payment_links", self._list_links),
            ("GET", r"/v1/payment_links/([^/]+)", self._get_link),
            ("POST", r"/v1/payments/([^/]+)/refund", self._create_refund),
            ("GET", r"/v1/payments/([^/]+)/refunds", self._list_refunds),
        ]
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, call.path)
            if method == call.method and match:
                try:
                    return 200, handler(call.params, *match.groups())
                except RazorpayError as exc:
                    body = self._error(exc.status, exc.message)
                    body["error"]["field"] = exc.field
                    return exc.status, body
        return 400, self._error(400, "The requested URL was not found on the server.")

    @staticmethod
    def _collection(items: list[dict], params: dict) -> dict:
        count, skip = int(params.get("count", 10)), int(params.get("skip", 0))
        page = items[skip : skip + count]
        return {"entity": "collection", "count": len(page), "items": page}

    @staticmethod
    def _notes(params: dict) -> dict | list:
        notes = params.get("notes") or {}
        if not isinstance(notes, dict) or len(notes) > 15:
            raise RazorpayError("notes must be an object of at most 15 keys", "notes")
        return notes or []

    def _create_plan(self, params: dict) -> dict:
        if params.get("period") not in PERIODS:
            raise RazorpayError("period is invalid.", "period")
        item = params.get("item") or {}
        if not isinstance(item.get("amount"), int) or item["amount"] < 100:
            raise RazorpayError("The amount must be at least INR 1.00.", "amount")
        if not item.get("name") or not item.get("currency"):
            raise RazorpayError("item needs a name and a currency.", "item")
        plan = {
            "id": _id("plan"),
            "entity": "plan",
            "interval": int(params.get("interval", 1)),
            "period": params["period"],
            "item": {
                "id": _id("item"),
                "active": True,
                "name": item["name"],
                "description": item.get("description"),
                "amount": item["amount"],
                "unit_amount": item["amount"],
                "currency": item["currency"],
                "type": "plan",
            },
            "notes": self._notes(params),
            "created_at": int(time.time()),
        }
        self.plans[plan["id"]] = plan
        return plan

    def _list_plans(self, params: dict) -> dict:
        return self._collection(list(reversed(self.plans.values())), params)

    def _create_subscription(self, params: dict) -> dict:
        plan_id = params.get("plan_id")
        if plan_id not in self.plans:
            raise RazorpayError("The id provided does not exist", "plan_id")
        if not isinstance(params.get("total_count"), int) or params["total_count"] < 1:
            raise RazorpayError("The total count field is required.", "total_count")
        addons = params.get("addons") or []
        for addon in addons:
            item = addon.get("item") or {}
            if not isinstance(item.get("amount"), int) or not item.get("currency"):
                raise RazorpayError("An addon needs an item with an amount and a currency.")
            if item["currency"] != self.plans[plan_id]["item"]["currency"]:
                raise RazorpayError("Addon currency must be the plan's.", "currency")
        now = int(time.time())
        subscription = {
            "id": _id("sub"),
            "entity": "subscription",
            "plan_id": plan_id,
            "customer_id": None,
            "status": "created",
            "current_start": None,
            "current_end": None,
            "ended_at": None,
            "quantity": int(params.get("quantity", 1)),
            "notes": self._notes(params),
            "charge_at": None,
            "start_at": params.get("start_at"),
            "end_at": None,
            "auth_attempts": 0,
            "total_count": params["total_count"],
            "paid_count": 0,
            "customer_notify": bool(params.get("customer_notify", True)),
            "created_at": now,
            "expire_by": params.get("expire_by"),
            "short_url": "",
            "has_scheduled_changes": False,
            "change_scheduled_at": None,
            "source": "api",
            "remaining_count": params["total_count"],
        }
        subscription["short_url"] = f"{self.url}/rzp/sub/{subscription['id']}"
        self.subscriptions[subscription["id"]] = subscription
        self._addons[subscription["id"]] = copy.deepcopy(addons)
        return subscription

    def _list_subscriptions(self, params: dict) -> dict:
        subscriptions = list(reversed(self.subscriptions.values()))
        if params.get("plan_id"):
            subscriptions = [s for s in subscriptions if s["plan_id"] == params["plan_id"]]
        if params.get("from"):
            subscriptions = [s for s in subscriptions if s["created_at"] >= int(params["from"])]
        if params.get("to"):
            subscriptions = [s for s in subscriptions if s["created_at"] <= int(params["to"])]
        return self._collection(subscriptions, params)

    def _get_subscription(self, params: dict, subscription_id: str) -> dict:
        if subscription_id not in self.subscriptions:
            raise RazorpayError("The id provided does not exist", "id")
        return self.subscriptions[subscription_id]

    def _cancel_subscription(self, params: dict, subscription_id: str) -> dict:
        subscription = self._get_subscription(params, subscription_id)
        if subscription["status"] in ("cancelled", "completed", "expired"):
            raise RazorpayError(
                f"Subscription is not cancellable in {subscription['status']} status."
            )
        self._cancel(subscription)
        return subscription

    def _create_link(self, params: dict) -> dict:
        amount = params.get("amount")
        if not isinstance(amount, int) or amount < 100:
            raise RazorpayError("The amount must be atleast INR 1.00", "amount")
        reference = params.get("reference_id")
        if reference is not None:
            if len(reference) > 40:
                raise RazorpayError("The reference id may not be greater than 40 characters.")
            if any(link["reference_id"] == reference for link in self.payment_links.values()):
                raise RazorpayError(
                    f"Payment Link with reference id {reference} already exists", "reference_id"
                )
        if params.get("callback_url") and params.get("callback_method") != "get":
            raise RazorpayError("callback_method must be get with a callback_url.")
        now = int(time.time())
        expire_by = params.get("expire_by") or 0
        if expire_by and expire_by < now + 15 * 60:
            raise RazorpayError("expire_by must be at least 15 minutes ahead.", "expire_by")
        link = {
            "id": _id("plink"),
            "accept_partial": bool(params.get("accept_partial", False)),
            "amount": amount,
            "amount_paid": 0,
            "callback_method": params.get("callback_method", ""),
            "callback_url": params.get("callback_url", ""),
            "cancelled_at": 0,
            "created_at": now,
            "currency": params.get("currency", "INR"),
            "customer": params.get("customer") or {},
            "description": params.get("description", ""),
            "expire_by": expire_by,
            "expired_at": 0,
            "first_min_partial_amount": 0,
            "notes": self._notes(params),
            "notify": params.get("notify") or {"email": False, "sms": False},
            "payments": None,
            "reference_id": reference or "",
            "reminder_enable": bool(params.get("reminder_enable", False)),
            "reminders": [],
            "short_url": "",
            "status": "created",
            "updated_at": now,
            "upi_link": False,
            "user_id": "",
        }
        link["short_url"] = f"{self.url}/rzp/i/{link['id']}"
        self.payment_links[link["id"]] = link
        return link

    def _list_links(self, params: dict) -> dict:
        links = list(reversed(self.payment_links.values()))
        if params.get("reference_id"):
            links = [link for link in links if link["reference_id"] == params["reference_id"]]
        return {"payment_links": links}

    def _get_link(self, params: dict, link_id: str) -> dict:
        if link_id not in self.payment_links:
            raise RazorpayError("The id provided does not exist", "id")
        return self.payment_links[link_id]

    def _create_refund(self, params: dict, payment_id: str) -> dict:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise RazorpayError("The id provided does not exist", "id")
        if payment["status"] not in ("captured", "refunded"):
            raise RazorpayError("Only captured payments can be refunded.")
        left = payment["amount"] - payment["amount_refunded"]
        amount = params.get("amount", left)
        if left == 0:
            raise RazorpayError("The payment has been fully refunded already")
        if not isinstance(amount, int) or not 0 < amount <= left:
            raise RazorpayError(
                "The refund amount provided is greater than amount captured", "amount"
            )
        refund = {
            "id": _id("rfnd"),
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": payment_id,
            "notes": self._notes(params),
            "receipt": params.get("receipt"),
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "batch_id": None,
            "status": "processed",
            "speed_processed": "normal",
            "speed_requested": params.get("speed", "normal"),
        }
        self.refunds[refund["id"]] = refund
        payment["amount_refunded"] += amount
        full = payment["amount_refunded"] == payment["amount"]
        payment["refund_status"] = "full" if full else "partial"
        if full:
            payment["status"] = "refunded"
        self.event("refund.created", refund=dict(refund, status="pending"), payment=payment)
        self.event("refund.processed", refund=refund, payment=payment)
        return refund

    def _list_refunds(self, params: dict, payment_id: str) -> dict:
        if payment_id not in self.payments:
            raise RazorpayError("The id provided does not exist", "id")
        refunds = [r for r in reversed(self.refunds.values()) if r["payment_id"] == payment_id]
        return self._collection(refunds, params)
