"""The demo marketplace for `make run` (`flask seed`): data files in this folder plus a builder.

Not part of the app (the wheel ships app* and jobs* only). Everything is keyed on slugs
(categories, stores, products, tags) and on email (users), so seeding again creates nothing
new. Products are inserted as approved listings directly; the review flow is for real vendors.
Each workflow or agent gets a small n8n workflow built from its flow, which fills the
compatibility facts and the SVG preview. The shop figures agree with the rows behind them:
no ratings (there are no reviews yet), sales counted from the demo customer's orders (made
by demo/commerce.py through the checkout services, counted by their jobs), and each
product's views are product_views rows.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import secrets
import tomllib
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.permissions import Role
from app.accounts.services import find_user_by_email, hash_password
from app.catalog.content import render_markdown, slugify
from app.catalog.listings import tags_named
from app.catalog.models import (
    Category,
    PriceType,
    Product,
    ProductStatus,
    ProductTransition,
    ProductView,
)
from app.extensions import db
from app.n8n import RenderOptions, analyse, parse_workflow, render_svg
from app.outbox.services import dispatch_committed
from app.storage import content_key, get_storage
from app.timeutil import utcnow
from app.vendors.models import VendorProfile, VendorStatus
from demo.analytics import seed_analytics
from demo.commerce import seed_commerce, seed_downloads
from demo.reviews import seed_reviews
from demo.support import seed_support

DATA = Path(__file__).resolve().parent
NOTE = "demo data"
DEMO_PASSWORD = "monster-demo-2026"  # noqa: S105 - the published demo password (README)
DEMO_ACCOUNTS = [
    ("admin@demo.autopilot.monster", Role.ADMIN, "Ada", "Admin"),
    ("vendor@demo.autopilot.monster", Role.VENDOR, "Vera", "Vendor"),
    ("customer@demo.autopilot.monster", Role.CUSTOMER, "Cory", "Customer"),
]
FREE_REFUND_POLICY = "Free to download: there is nothing to refund."

# --- the data files, as typed records ---------------------------------------------------------


@dataclass(frozen=True)
class DemoVendor:
    key: str
    email: str
    first_name: str
    last_name: str
    store_name: str
    slug: str
    country: str
    is_verified: bool
    bio: str
    support_policy: str
    refund_policy: str


@dataclass(frozen=True)
class Kind:
    """One n8n node type with sensible default parameters (the demo workflows import cleanly)."""

    type: str
    version: float
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    credential: tuple[str, str] | None = None  # (credential type, service label)
    connection: str = "main"  # the output a sub-node feeds its root node through
    webhook: bool = False


@dataclass(frozen=True)
class Step:
    kind: str
    name: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or load().kinds[self.kind].name


@dataclass(frozen=True)
class Flow:
    """A trigger, a main chain and the sub-nodes of its AI step.

    An ``if`` step's true output continues the chain; its false output goes to ``otherwise``
    (a single terminal node) when given.
    """

    trigger: Step
    steps: Sequence[Step]
    ai: Sequence[Step] = ()
    otherwise: Step | None = None
    note: str = ""


@dataclass(frozen=True)
class DemoProduct:
    title: str
    vendor: str
    category: str
    type: str
    price_type: str
    price_cents: int
    monthly_price_cents: int | None
    yearly_price_cents: int | None
    summary: str
    intro: str
    highlights: Sequence[str]
    requirements: str
    tags: Sequence[str]
    complexity: str
    setup_minutes: int
    flow: Flow | None = None
    usage: Sequence[str] = ()  # how to use an asset (workflows get setup steps from the flow)
    featured: bool = False
    # (commercial use, redistribution, modification)
    licence: tuple[bool, bool, bool] = (True, False, True)

    @property
    def slug(self) -> str:
        return slugify(self.title)


@dataclass(frozen=True)
class DemoData:
    # (name, slug, description, children as (name, slug, description))
    categories: list[tuple[str, str, str, list[tuple[str, str, str]]]]
    vendors: list[DemoVendor]
    kinds: dict[str, Kind]
    products: list[DemoProduct]

    @property
    def vendor_by_key(self) -> dict[str, DemoVendor]:
        return {vendor.key: vendor for vendor in self.vendors}


def _read(name: str) -> dict[str, Any]:
    with (DATA / f"{name}.toml").open("rb") as file:
        return tomllib.load(file)


def _step(raw: Mapping[str, Any]) -> Step:
    return Step(raw["kind"], raw.get("name", ""), raw.get("params", {}))


def _product(raw: Mapping[str, Any]) -> DemoProduct:
    price = raw["price"]
    flow = raw.get("flow")
    licence = raw.get("licence", {})
    return DemoProduct(
        title=raw["title"],
        vendor=raw["vendor"],
        category=raw["category"],
        type=raw["type"],
        price_type=price["type"],
        price_cents=price.get("cents", 0),
        monthly_price_cents=price.get("monthly"),
        yearly_price_cents=price.get("yearly"),
        summary=raw["summary"],
        intro=raw["intro"],
        highlights=raw["highlights"],
        requirements=raw["requirements"],
        tags=raw["tags"],
        complexity=raw["complexity"],
        setup_minutes=raw["setup_minutes"],
        flow=None
        if flow is None
        else Flow(
            _step(flow["trigger"]),
            [_step(s) for s in flow["steps"]],
            [_step(s) for s in flow.get("ai", [])],
            _step(flow["otherwise"]) if "otherwise" in flow else None,
            flow.get("note", ""),
        ),
        usage=raw.get("usage", ()),
        featured=raw.get("featured", False),
        licence=(
            licence.get("commercial", True),
            licence.get("redistribution", False),
            licence.get("modification", True),
        ),
    )


@functools.cache
def load() -> DemoData:
    """The demo data files (categories, vendors, nodes, products .toml), read once."""
    categories = [
        (c["name"], c["slug"], c["description"], [
            (child["name"], child["slug"], child["description"]) for child in c["children"]
        ])
        for c in _read("categories")["category"]
    ]  # fmt: skip
    kinds = {
        key: Kind(
            raw["type"],
            raw["version"],
            raw["name"],
            raw.get("params", {}),
            tuple(raw["credential"]) if "credential" in raw else None,  # type: ignore[arg-type]
            raw.get("connection", "main"),
            raw.get("webhook", False),
        )
        for key, raw in _read("nodes")["kind"].items()
    }
    return DemoData(
        categories,
        [DemoVendor(**raw) for raw in _read("vendors")["vendor"]],
        kinds,
        [_product(raw) for raw in _read("products")["product"]],
    )


# --- building the demo workflows -------------------------------------------------------------

AI_ROOTS = frozenset({"agent", "chain", "extractor"})
STICKY_NOTE = "n8n-nodes-base.stickyNote"
# Canvas layout: the main chain left to right, an If's false branch below, AI sub-nodes under
# their root (the editor's default spacing is 224 px; 240 keeps labels apart).
_X_STEP, _AI_ROOT_EXTRA = 240, 140
_Y_MAIN, _Y_BRANCH, _Y_OTHER, _Y_SUB = 300, 200, 420, 560


def _uuid(*parts: str) -> str:
    """Deterministic ids: the same product yields the same workflow (and preview) every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "autopilot.monster/demo/" + "/".join(parts)))


def _node(slug: str, step: Step, x: float, y: float) -> dict[str, Any]:
    kind = load().kinds[step.kind]
    params = {**kind.params, **step.params}
    if kind.webhook and step.kind == "webhook":
        params["path"] = slug
    node: dict[str, Any] = {
        "parameters": params,
        "id": _uuid(slug, step.label),
        "name": step.label,
        "type": kind.type,
        "typeVersion": kind.version,
        "position": [x, y],
    }
    if kind.webhook:
        node["webhookId"] = _uuid(slug, step.label, "webhook")
    if kind.credential is not None:
        cred_type, service = kind.credential
        node["credentials"] = {
            cred_type: {"id": _uuid(cred_type)[:16].replace("-", ""), "name": f"{service} account"}
        }
    return node


def _main(target: str) -> dict[str, Any]:
    return {"node": target, "type": "main", "index": 0}


def build_workflow(product: DemoProduct) -> dict[str, Any]:
    """The product's n8n workflow document (the shape of the editor's "Download")."""
    flow = product.flow
    if flow is None:
        raise ValueError(f"{product.title} has no workflow")
    slug = product.slug
    nodes = [_node(slug, flow.trigger, 0, _Y_MAIN)]
    connections: dict[str, Any] = {}
    previous, x, y = flow.trigger, 0, _Y_MAIN
    ai_root: tuple[str, int] | None = None
    for step in flow.steps:
        # An AI root is drawn 224 px wide instead of 96: leave room after it.
        x += _X_STEP + (_AI_ROOT_EXTRA if previous.kind in AI_ROOTS else 0)
        if previous.kind == "if" and flow.otherwise is not None:
            y = _Y_BRANCH
        nodes.append(_node(slug, step, x, y))
        if step.kind == "if" and flow.otherwise is not None:
            nodes.append(_node(slug, flow.otherwise, x + _X_STEP, _Y_OTHER))
            connections[step.label] = {"main": [[], [_main(flow.otherwise.label)]]}
        connections.setdefault(previous.label, {"main": [[]]})["main"][0].append(_main(step.label))
        if step.kind in AI_ROOTS and ai_root is None:
            ai_root = (step.label, x)
        previous = step
    if flow.ai:
        if ai_root is None:
            raise ValueError(f"{product.title}: AI sub-nodes without an AI step")
        root, root_x = ai_root
        first_x = root_x + 112 - 40 - 70 * (len(flow.ai) - 1)  # centred under the root
        for i, part in enumerate(flow.ai):
            kind = load().kinds[part.kind]
            nodes.append(_node(slug, part, first_x + 140 * i, _Y_SUB))
            connections[part.label] = {
                kind.connection: [[{"node": root, "type": kind.connection, "index": 0}]]
            }
    note = flow.note or "Connect the credentials on each node, then run once with test data."
    nodes.append(
        {
            "parameters": {"content": f"## {product.title}\n{note}", "height": 100, "width": 320},
            "id": _uuid(slug, "note"),
            "name": "Sticky Note",
            "type": STICKY_NOTE,
            "typeVersion": 1,
            "position": [-60, 60],
        }
    )
    return {
        "name": product.title,
        "nodes": nodes,
        "pinData": {},
        "connections": connections,
        "active": False,
        "settings": {"executionOrder": "v1"},
        "versionId": _uuid(slug, "version"),
        "meta": {"templateCredsSetupCompleted": False},
        "tags": [],
    }


def _credential_services(product: DemoProduct) -> list[str]:
    flow = product.flow
    if flow is None:
        return []
    services: dict[str, None] = {}
    for step in (flow.trigger, *flow.steps, *flow.ai, *filter(None, [flow.otherwise])):
        credential = load().kinds[step.kind].credential
        if credential is not None:
            services[credential[1]] = None
    return list(services)


def workflow_facts(product: DemoProduct) -> dict[str, Any]:
    """node_types, services, credentials_required, n8n_version and preview_key of a product.

    The preview is rendered with the n8n library and stored; if the library fails the preview
    is skipped with a warning (services then come from the credentials the workflow uses).
    """
    document = build_workflow(product)
    active = [n for n in document["nodes"] if n["type"] != STICKY_NOTE]
    facts: dict[str, Any] = {
        "node_types": sorted({n["type"] for n in active}),
        "credentials_required": sorted({c for n in active for c in n.get("credentials", {})}),
        "services": sorted(_credential_services(product)),
        "n8n_version": _n8n_version(product.requirements),
        "preview_key": None,
    }
    data = json.dumps(document).encode()
    workflow = parse_workflow(data)
    facts["services"] = analyse(workflow).services
    svg = render_svg(workflow, RenderOptions()).encode()
    key = content_key("previews", svg, ".svg")
    get_storage().put(key, svg, "image/svg+xml")
    facts["preview_key"] = key
    return facts


def _n8n_version(requirements: str) -> str:
    match = re.search(r"n8n (\d+\.\d+)", requirements)
    return f"{match.group(1)}.0" if match else ""


# --- listing text and figures -----------------------------------------------------------------

_TRIGGER_HINTS = {
    "webhook": "Copy the webhook's production URL into the tool that sends the events.",
    "form_trigger": "Open the form's production URL and share it with the people who use it.",
    "chat_trigger": "Open the chat's production URL, or embed it in your site with n8n's "
    "chat widget.",
}


def description_md(product: DemoProduct) -> str:
    """The long description: the intro, highlights and how to set it up or use it."""
    heading = "What you get" if product.flow is None else "What it does"
    parts = [product.intro, f"## {heading}", "\n".join(f"- {h}" for h in product.highlights)]
    if product.flow is not None:
        steps = ["Import the workflow into n8n: *Workflows → Import from file*."]
        services = _credential_services(product)
        if services:
            steps.append("Create credentials for " + _join(services) + " and select them.")
        hint = _TRIGGER_HINTS.get(product.flow.trigger.kind)
        if hint:
            steps.append(hint)
        steps.append("Run it once with test data, check each node's output, then activate it.")
    else:
        steps = list(product.usage)
    parts += ["## Setup", "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))]
    return "\n\n".join(parts) + "\n"


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- seeding ---------------------------------------------------------------------------------


def seed() -> Iterator[str]:
    """Create the demo accounts, then the demo catalog; idempotent. Yields progress lines."""
    accounts: dict[Role, User] = {}
    password_hash = ""
    for email, role, first, last in DEMO_ACCOUNTS:
        user = find_user_by_email(email)
        if user is not None:
            yield f"exists: {email}"
        else:
            # scrypt is slow on purpose: hash the shared demo password once, not per account.
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(
                email=email,
                password_hash=password_hash,
                role=role.value,
                first_name=first,
                last_name=last,
                email_verified_at=utcnow(),
            )
            db.session.add(user)
            yield f"created: {email} ({role.value})"
        accounts[role] = user
    db.session.commit()
    yield from seed_catalog(reviewer=accounts[Role.ADMIN])
    # The uploads' scan jobs: run here without Redis, so the purchases below find clean files
    # to download; with Redis the workers scan them and a later `flask seed` downloads them.
    dispatch_committed()
    yield from seed_commerce(accounts[Role.CUSTOMER], accounts[Role.VENDOR])
    yield from seed_support(accounts[Role.CUSTOMER], accounts[Role.VENDOR])
    yield from seed_reviews()
    yield from seed_downloads(accounts[Role.CUSTOMER])
    yield from seed_analytics()
    yield from seed_notifications(accounts)


# In-app notifications the demo accounts find in their bell (no email is sent for them).
DEMO_NOTIFICATIONS: dict[Role, list[tuple[str, str, str, str]]] = {
    Role.VENDOR: [
        ("listing_decision", "Approved: your first listing", "It is live.", "/vendor/products"),
        (
            "sale_made",
            "You made a sale",
            "A buyer bought one of your workflows.",
            "/vendor/products",
        ),
        ("review_received", "New review: 5 stars", "“Saved me a day of work.”", "/vendor/products"),
    ],
    Role.CUSTOMER: [
        ("new_version", "A product you own has a new version", "", "/"),
    ],
}


def seed_notifications(accounts: Mapping[Role, User]) -> Iterator[str]:
    """A few unread notifications per demo account, once (keyed like events: demo-<role>-<n>)."""
    from app.notifications.models import Notification

    made = 0
    for role, notices in DEMO_NOTIFICATIONS.items():
        user = accounts[role]
        for n, (kind, title, body, link) in enumerate(notices):
            key = f"demo-{role.value}-{n}"
            exists = db.session.scalar(
                select(Notification.id).where(
                    Notification.user_id == user.id, Notification.event_id == key
                )
            )
            if exists is None:
                db.session.add(
                    Notification(
                        user_id=user.id, kind=kind, title=title, body=body, link=link, event_id=key
                    )
                )
                made += 1
    db.session.commit()
    yield f"notifications: {made} created"


def seed_catalog(reviewer: User | None) -> Iterator[str]:
    """Create the demo categories, stores and products that are missing; commit once.

    ``reviewer`` is recorded as the admin who approved the new stores.
    """
    data = load()
    categories, made = _ensure_categories(data)
    yield f"categories: {made} created, {len(categories) - made} existing"
    vendors, made = _ensure_vendors(data, reviewer)
    yield f"vendor stores: {made} created, {len(vendors) - made} existing"
    made, previews = _ensure_products(data, categories, vendors)
    yield (
        f"products: {made} created, {len(data.products) - made} existing"
        + (f" ({previews} previews rendered)" if made else "")
    )
    db.session.commit()
    yield from _ensure_versions(data)


# The demo listing whose workflow carries a planted secret (a finding), and the one whose
# second upload, a zip with a path out of its folder, was rejected.
SECRET_DEMO = 0
REJECTED_DEMO = 1


def _demo_files(spec: DemoProduct, index: int) -> list[tuple[str, str, bytes, str]]:
    """(label, filename, content, changelog) of each version the demo uploads for ``spec``."""
    document = build_workflow(spec)
    if index == SECRET_DEMO:
        # A value derived from the slug: never a real token, but one the scanner must find.
        token = hashlib.sha256(f"demo-token:{spec.slug}".encode()).hexdigest()
        document["nodes"].append(
            {
                "parameters": {
                    "url": "https://api.example.com/v1/report",
                    "sendHeaders": True,
                    "headerParameters": {
                        "parameters": [{"name": "Authorization", "value": f"Bearer {token}"}]
                    },
                },
                "id": _uuid(spec.slug, "leak"),
                "name": "Send report",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": 4,
                "position": [240, 420],
            }
        )
    data = json.dumps(document, indent=2).encode()
    name = f"{spec.slug}.json"
    files = [("1.0", name, data, "First release.")]
    if index == REJECTED_DEMO:
        bundle = io.BytesIO()
        with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
            archive.writestr("../setup.sh", "echo installing\n")
        files.append(("1.1", f"{spec.slug}.zip", bundle.getvalue(), "Bundled a setup script."))
    return files


def _ensure_versions(data: DemoData) -> Iterator[str]:
    """Each demo workflow and agent uploaded as a vendor uploads it (the upload service, one
    commit); the scan jobs its events start do the rest once `flask seed` dispatches them (in
    this process without Redis, in the workers with it). Listings with versions are left
    alone."""
    from app.assets.models import ProductVersion
    from app.assets.services import upload_version

    with_flow = [spec for spec in data.products if spec.flow is not None]
    products = {
        p.slug: p
        for p in db.session.scalars(
            select(Product).where(Product.slug.in_([spec.slug for spec in with_flow]))
        )
    }
    versioned = set(db.session.scalars(select(ProductVersion.product_id).distinct()))
    uploaded = 0
    for index, spec in enumerate(with_flow):
        product = products.get(spec.slug)
        if product is None or product.id in versioned:
            continue
        for label, filename, content, changelog in _demo_files(spec, index):
            upload_version(
                product.vendor.user, product, io.BytesIO(content), filename, label, changelog
            )
            uploaded += 1
    db.session.commit()
    yield f"versions: {uploaded} uploaded" + (
        " (the scan jobs check them next)" if uploaded else ""
    )


def _digest(product: DemoProduct) -> bytes:
    return hashlib.sha256(product.slug.encode()).digest()


def _published_ago(product: DemoProduct) -> timedelta:
    """Varied but stable ages, derived from the slug so every run agrees."""
    h = _digest(product)
    return timedelta(days=3 + (h[4] * 256 + h[5]) % 170, hours=h[6] % 24)


def _views(product: DemoProduct, product_id: int, published_days: int) -> list[ProductView]:
    """A few dozen visits spread over the days since publication, one row per visitor and
    day as pages count them (app/catalog/pageviews.py), so view_count has rows behind it."""
    h = _digest(product)
    today = utcnow().date()
    rows = []
    for n in range(5 + h[1] % 60):
        visitor = hashlib.sha256(f"demo|{product.slug}|{n}".encode()).hexdigest()[:32]
        day = today - timedelta(days=(h[2] + 7 * n) % max(1, published_days))
        rows.append(ProductView(product_id=product_id, day=day, visitor=visitor))
    return rows


def _ensure_categories(data: DemoData) -> tuple[dict[str, Category], int]:
    found = {c.slug: c for c in db.session.scalars(select(Category))}
    made = 0
    for position, (name, slug, description, children) in enumerate(data.categories):
        parent = found.get(slug)
        if parent is None:
            parent = Category(name=name, slug=slug, description=description, position=position)
            db.session.add(parent)
            found[slug] = parent
            made += 1
        for child_position, (child, child_slug, child_description) in enumerate(children):
            if child_slug not in found:
                found[child_slug] = Category(
                    name=child,
                    slug=child_slug,
                    description=child_description,
                    position=child_position,
                    parent=parent,
                )
                db.session.add(found[child_slug])
                made += 1
    db.session.flush()
    return found, made


def _ensure_vendors(data: DemoData, reviewer: User | None) -> tuple[dict[str, VendorProfile], int]:
    slugs = [spec.slug for spec in data.vendors]
    found = db.session.scalars(select(VendorProfile).where(VendorProfile.slug.in_(slugs)))
    by_slug = {profile.slug: profile for profile in found}
    stores = {spec.key: by_slug[spec.slug] for spec in data.vendors if spec.slug in by_slug}
    now = utcnow()
    locked_hash = ""
    made = 0
    for spec in data.vendors:
        if spec.key in stores:
            continue
        user = find_user_by_email(spec.email)
        if user is None:
            # Demo stores other than the demo vendor's cannot be logged into: the password is
            # random and never shown. One hash serves them all (scrypt is slow on purpose).
            locked_hash = locked_hash or hash_password(secrets.token_urlsafe(32))
            user = User(
                email=spec.email,
                password_hash=locked_hash,
                role=Role.VENDOR.value,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email_verified_at=now,
            )
        else:
            existing = db.session.scalar(
                select(VendorProfile).where(VendorProfile.user_id == user.id)
            )
            if existing is not None:  # the account already has a store of its own
                stores[spec.key] = existing
                continue
            if user.role == Role.CUSTOMER:
                user.role = Role.VENDOR.value
        stores[spec.key] = VendorProfile(
            user=user,
            store_name=spec.store_name,
            slug=spec.slug,
            bio=spec.bio,
            support_email=spec.email,
            country=spec.country,
            status=VendorStatus.APPROVED.value,
            is_verified=spec.is_verified,
            reviewed_by_id=reviewer.id if reviewer is not None else None,
            reviewed_at=now,
        )
        db.session.add(stores[spec.key])
        made += 1
    db.session.flush()
    return stores, made


def _ensure_products(
    data: DemoData, categories: dict[str, Category], vendors: dict[str, VendorProfile]
) -> tuple[int, int]:
    slugs = [p.slug for p in data.products]
    existing = set(db.session.scalars(select(Product.slug).where(Product.slug.in_(slugs))))
    missing = [p for p in data.products if p.slug not in existing]
    if not missing:
        return 0, 0
    tags = {t.slug: t for t in tags_named([name for p in missing for name in p.tags])}
    now = utcnow()
    products: list[tuple[DemoProduct, Product]] = []
    previews = 0
    for spec in missing:
        published = now - _published_ago(spec)
        facts = workflow_facts(spec) if spec.flow is not None else {}
        previews += bool(facts.get("preview_key"))
        commercial, redistribution, modification = spec.licence
        store = data.vendor_by_key[spec.vendor]
        text = description_md(spec)
        product = Product(
            vendor=vendors[spec.vendor],
            category=categories[spec.category],
            slug=spec.slug,
            status=ProductStatus.APPROVED.value,
            title=spec.title,
            short_description=spec.summary,
            description_md=text,
            description_html=render_markdown(text),
            type=spec.type,
            price_type=spec.price_type,
            currency="USD",
            price_cents=spec.price_cents,
            monthly_price_cents=spec.monthly_price_cents,
            yearly_price_cents=spec.yearly_price_cents,
            complexity=spec.complexity,
            setup_minutes=spec.setup_minutes,
            requirements=spec.requirements,
            licence_commercial=commercial,
            licence_redistribution=redistribution,
            licence_modification=modification,
            support_policy=store.support_policy,
            refund_policy=FREE_REFUND_POLICY
            if spec.price_type == PriceType.FREE
            else store.refund_policy,
            is_featured=spec.featured,
            published_at=published,
            created_at=published - timedelta(days=2),
            updated_at=published,
            tags=[tags[slugify(name, 40)] for name in spec.tags],
            # No reviews or orders exist yet: nothing to count.
            rating_avg=0.0,
            rating_count=0,
            sales_count=0,
            **facts,
        )
        products.append((spec, product))
    db.session.add_all(product for _spec, product in products)
    db.session.flush()
    for spec, product in products:
        views = _views(spec, product.id, (now - product.published_at).days)
        db.session.add_all(views)
        # What flushing those views through app/catalog/pageviews.py would have counted.
        product.view_count = product.popularity = len(views)
        db.session.add(
            ProductTransition(
                product_id=product.id,
                from_status="",
                to_status=ProductStatus.APPROVED.value,
                actor_id=None,
                note=NOTE,
                created_at=product.published_at,
            )
        )
    return len(products), previews
