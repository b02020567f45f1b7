"""Demo catalog for `flask seed`: categories, vendor stores and products written for this project.

Everything is keyed on slugs (categories, stores, products, tags) and on email (vendor users), so
running the seed again creates nothing new. Products are inserted as approved listings directly;
the review flow is for real vendors. Each workflow or agent gets a small n8n workflow built from
its ``Flow`` below, which fills the compatibility facts and the SVG preview.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.permissions import Role
from app.accounts.services import find_user_by_email, hash_password
from app.catalog.content import render_markdown, slugify
from app.catalog.listings import tags_named
from app.catalog.models import (
    Category,
    Complexity,
    PriceType,
    Product,
    ProductStatus,
    ProductTransition,
    ProductType,
)
from app.extensions import db
from app.n8n import RenderOptions, analyse, parse_workflow, render_svg
from app.storage import content_key, get_storage
from app.timeutil import utcnow
from app.vendors.models import VendorProfile, VendorStatus

NOTE = "demo data"

# --- categories ----------------------------------------------------------------------------

# (name, slug, description, children as (name, slug, description))
CATEGORY_TREE: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    (
        "Marketing",
        "marketing",
        "Campaigns, newsletters, social posts and the reports that prove they worked.",
        [
            ("Email Marketing", "email-marketing", "Newsletters, drip sequences and list care."),
            ("Social Media", "social-media", "Scheduling, repurposing and listening."),
            ("SEO & Content", "seo-content", "Briefs, outlines and content operations."),
        ],
    ),
    (
        "Sales & CRM",
        "sales-crm",
        "Find, qualify and follow up with leads, and keep the CRM clean while you do.",
        [
            ("Lead Generation", "lead-generation", "Capture, enrich and score new leads."),
            ("CRM Hygiene", "crm-hygiene", "Duplicates, stale deals and missing fields."),
            ("Sales Outreach", "sales-outreach", "Personalised first lines and follow-ups."),
        ],
    ),
    (
        "Customer Support",
        "customer-support",
        "Answer faster, route better and learn what customers keep asking about.",
        [
            ("Helpdesk", "helpdesk", "Triage, macros and escalation for support inboxes."),
            ("Chatbots", "chatbots", "Website and messenger bots that know when to hand over."),
        ],
    ),
    (
        "Data & Analytics",
        "data-analytics",
        "Move data between tools, clean it and turn it into numbers people read.",
        [
            ("Reporting", "reporting", "Dashboards, digests and scheduled KPI snapshots."),
            ("Data Pipelines", "data-pipelines", "Syncs, transforms and clean-up jobs."),
            ("Web Scraping", "web-scraping", "Watch pages and pull structured data from them."),
        ],
    ),
    (
        "DevOps & IT",
        "devops-it",
        "Monitoring, releases, incidents and the paperwork that follows them.",
        [
            ("Monitoring & Alerts", "monitoring-alerts", "Uptime checks and on-call paging."),
            ("CI/CD", "ci-cd", "Release notes, deploy hooks and repository chores."),
            ("Security", "security", "Advisories, audits and access reviews."),
        ],
    ),
    (
        "Finance",
        "finance",
        "Invoices, expenses, payments and month-end close without the copy and paste.",
        [
            ("Invoicing", "invoicing", "Create, send and chase invoices."),
            ("Expenses", "expenses", "Receipts, policies and expense logs."),
            ("Payments", "payments", "Failed payments, refunds and payouts."),
        ],
    ),
    (
        "Productivity",
        "productivity",
        "Meetings, notes, calendars and to-do lists that update themselves.",
        [
            ("Meetings", "meetings", "Agendas, summaries and follow-ups."),
            ("Documents & Notes", "documents-notes", "Templates and knowledge capture."),
            ("Scheduling", "scheduling", "Calendars, focus time and reminders."),
        ],
    ),
    (
        "AI Assistants",
        "ai-assistants",
        "Agents and prompt kits that research, write and answer with your own knowledge.",
        [
            ("Research Agents", "research-agents", "Agents that search, read and cite."),
            ("Writing Assistants", "writing-assistants", "Drafting, editing and brand voice."),
            ("Knowledge Bases", "knowledge-bases", "Question answering over your documents."),
        ],
    ),
]

# --- vendor stores -------------------------------------------------------------------------


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


VENDORS: list[DemoVendor] = [
    DemoVendor(
        key="vera",
        email="vendor@demo.autopilot.monster",  # the demo vendor account owns this store
        first_name="Vera",
        last_name="Vendor",
        store_name="Vera's Automation Lab",
        slug="vera-automation-lab",
        country="GB",
        is_verified=True,
        bio=(
            "Small, well-documented automations for marketing and operations teams. "
            "Every workflow ships with a setup checklist and test data."
        ),
        support_policy=(
            "Questions by email, answered within two working days. Free setup help for "
            "30 days after purchase."
        ),
        refund_policy=(
            "Full refund within 14 days if the product does not work as described on the "
            "n8n version listed."
        ),
    ),
    DemoVendor(
        key="flowforge",
        email="flowforge@demo.autopilot.monster",
        first_name="Jonas",
        last_name="Brandt",
        store_name="FlowForge Studio",
        slug="flowforge-studio",
        country="DE",
        is_verified=True,
        bio=(
            "An n8n consultancy that packages the workflows it builds for clients: CRM "
            "clean-up, syncs between SaaS tools and release chores."
        ),
        support_policy=(
            "Email support Monday to Friday, 9:00-17:00 CET. Fixes for breaking n8n releases "
            "within two weeks."
        ),
        refund_policy="Refund within 30 days, no questions asked, for one-time purchases.",
    ),
    DemoVendor(
        key="lighthouse",
        email="lighthouse@demo.autopilot.monster",
        first_name="Priya",
        last_name="Raman",
        store_name="Lighthouse Agents",
        slug="lighthouse-agents",
        country="US",
        is_verified=True,
        bio=(
            "AI agents for revenue teams and writers, built on n8n's agent node with clear "
            "prompts you can read and change."
        ),
        support_policy=(
            "Support through the store email within one working day; subscribers also get a "
            "monthly prompt update."
        ),
        refund_policy=(
            "Subscriptions can be cancelled at any time and stop at the end of the period; "
            "one-time purchases are refundable within 14 days."
        ),
    ),
    DemoVendor(
        key="ledgerly",
        email="ledgerly@demo.autopilot.monster",
        first_name="Maarten",
        last_name="de Vries",
        store_name="Ledgerly Automations",
        slug="ledgerly-automations",
        country="NL",
        is_verified=False,
        bio=(
            "Finance automations by a former bookkeeper: invoices, receipts, failed payments "
            "and month-end checklists."
        ),
        support_policy="Email support within three working days. Setup calls on request.",
        refund_policy="Refund within 14 days if the product has not been used in production.",
    ),
    DemoVendor(
        key="pipeline",
        email="pipelinepilots@demo.autopilot.monster",
        first_name="Aiko",
        last_name="Tanaka",
        store_name="Pipeline Pilots",
        slug="pipeline-pilots",
        country="CA",
        is_verified=False,
        bio=(
            "Data engineers who like boring, reliable pipelines: syncs, scrapers, KPI digests "
            "and SQL agents with read-only access."
        ),
        support_policy=(
            "Issues by email; answered within two working days. Compatibility checked against "
            "each n8n minor release."
        ),
        refund_policy="Refund within 7 days of purchase; subscriptions stop at period end.",
    ),
    DemoVendor(
        key="quietloop",
        email="quietloop@demo.autopilot.monster",
        first_name="Sam",
        last_name="Okafor",
        store_name="Quietloop Ops",
        slug="quietloop-ops",
        country="AU",
        is_verified=True,
        bio=(
            "Support and operations tooling: triage agents, chatbots, runbooks and incident "
            "write-ups for small teams."
        ),
        support_policy=(
            "Support by email, seven days a week, within 24 hours. Critical bugs fixed first."
        ),
        refund_policy=(
            "Full refund within 30 days for one-time purchases; subscriptions are refunded "
            "pro rata on request."
        ),
    ),
]

VENDOR_BY_KEY = {vendor.key: vendor for vendor in VENDORS}
FREE_REFUND_POLICY = "Free to download: there is nothing to refund."

# --- n8n node kinds used by the demo workflows ----------------------------------------------


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


def _rl(value: str, mode: str = "list") -> dict[str, Any]:
    return {"__rl": True, "mode": mode, "value": value}


_KEEP_ITEMS_JS = (
    "// Keep the items this step needs; adapt the rules to your data.\nreturn $input.all();"
)

KINDS: dict[str, Kind] = {
    # Triggers.
    "webhook": Kind(
        "n8n-nodes-base.webhook",
        2,
        "Webhook",
        {"httpMethod": "POST", "responseMode": "onReceived", "options": {}},
        webhook=True,
    ),
    "schedule_minutes": Kind(
        "n8n-nodes-base.scheduleTrigger",
        1.2,
        "Every 5 minutes",
        {"rule": {"interval": [{"field": "minutes", "minutesInterval": 5}]}},
    ),
    "schedule_hourly": Kind(
        "n8n-nodes-base.scheduleTrigger",
        1.2,
        "Every hour",
        {"rule": {"interval": [{"field": "hours"}]}},
    ),
    "schedule_daily": Kind(
        "n8n-nodes-base.scheduleTrigger",
        1.2,
        "Every morning",
        {"rule": {"interval": [{"triggerAtHour": 7}]}},
    ),
    "schedule_weekly": Kind(
        "n8n-nodes-base.scheduleTrigger",
        1.2,
        "Every Monday",
        {"rule": {"interval": [{"field": "weeks", "triggerAtDay": [1], "triggerAtHour": 7}]}},
    ),
    "gmail_trigger": Kind(
        "n8n-nodes-base.gmailTrigger",
        1.2,
        "New email",
        {"pollTimes": {"item": [{"mode": "everyMinute"}]}, "simple": False, "filters": {}},
        ("gmailOAuth2", "Gmail"),
    ),
    "chat_trigger": Kind(
        "@n8n/n8n-nodes-langchain.chatTrigger",
        1.1,
        "When chat message received",
        {"public": True, "options": {}},
        webhook=True,
    ),
    "form_trigger": Kind(
        "n8n-nodes-base.formTrigger",
        2.2,
        "Form submitted",
        {"formTitle": "Request", "formFields": {"values": [{"fieldLabel": "Topic"}]}},
        webhook=True,
    ),
    "telegram_trigger": Kind(
        "n8n-nodes-base.telegramTrigger",
        1.1,
        "Telegram message",
        {"updates": ["message"], "additionalFields": {}},
        ("telegramApi", "Telegram"),
        webhook=True,
    ),
    "stripe_trigger": Kind(
        "n8n-nodes-base.stripeTrigger",
        1,
        "Stripe event",
        {"events": ["invoice.payment_failed"]},
        ("stripeApi", "Stripe"),
        webhook=True,
    ),
    "github_trigger": Kind(
        "n8n-nodes-base.githubTrigger",
        1,
        "GitHub event",
        {"owner": _rl("your-org"), "repository": _rl("your-repo"), "events": ["release"]},
        ("githubApi", "GitHub"),
        webhook=True,
    ),
    # Core nodes.
    "set": Kind(
        "n8n-nodes-base.set",
        3.4,
        "Edit Fields",
        {
            "assignments": {
                "assignments": [
                    {"name": "email", "value": "={{ $json.email }}", "type": "string"},
                    {"name": "text", "value": "={{ $json.message }}", "type": "string"},
                ]
            },
            "options": {},
        },
    ),
    "code": Kind("n8n-nodes-base.code", 2, "Code", {"jsCode": _KEEP_ITEMS_JS}),
    "if": Kind(
        "n8n-nodes-base.if",
        2.2,
        "If",
        {
            "conditions": {
                "options": {"caseSensitive": True, "typeValidation": "strict"},
                "conditions": [
                    {
                        "leftValue": "={{ $json.score }}",
                        "rightValue": 70,
                        "operator": {"type": "number", "operation": "gte"},
                    }
                ],
                "combinator": "and",
            },
            "options": {},
        },
    ),
    "http": Kind(
        "n8n-nodes-base.httpRequest",
        4.2,
        "HTTP Request",
        {"url": "={{ $json.url }}", "options": {"timeout": 10000}},
    ),
    "html": Kind(
        "n8n-nodes-base.html",
        1.2,
        "HTML",
        {
            "operation": "extractHtmlContent",
            "extractionValues": {"values": [{"key": "content", "cssSelector": "main"}]},
            "options": {},
        },
    ),
    "wait": Kind("n8n-nodes-base.wait", 1.1, "Wait", {"amount": 10, "unit": "minutes"}),
    "respond": Kind(
        "n8n-nodes-base.respondToWebhook",
        1.1,
        "Respond to Webhook",
        {"respondWith": "json", "responseBody": "={{ $json }}", "options": {}},
    ),
    # Apps.
    "slack": Kind(
        "n8n-nodes-base.slack",
        2.3,
        "Slack",
        {
            "select": "channel",
            "channelId": _rl("#general", "name"),
            "text": "={{ $json.message }}",
            "otherOptions": {},
        },
        ("slackApi", "Slack"),
    ),
    "gmail": Kind(
        "n8n-nodes-base.gmail",
        2.1,
        "Gmail",
        {
            "sendTo": "={{ $json.email }}",
            "subject": "={{ $json.subject }}",
            "message": "={{ $json.body }}",
            "options": {},
        },
        ("gmailOAuth2", "Gmail"),
    ),
    "sheets": Kind(
        "n8n-nodes-base.googleSheets",
        4.5,
        "Google Sheets",
        {
            "operation": "append",
            "documentId": _rl(""),
            "sheetName": _rl("gid=0"),
            "columns": {"mappingMode": "autoMapInputData", "value": {}},
            "options": {},
        },
        ("googleSheetsOAuth2Api", "Google Sheets"),
    ),
    "hubspot": Kind(
        "n8n-nodes-base.hubspot",
        2.1,
        "HubSpot",
        {"authentication": "appToken", "resource": "contact", "operation": "upsert"},
        ("hubspotAppToken", "HubSpot"),
    ),
    "notion": Kind(
        "n8n-nodes-base.notion",
        2.2,
        "Notion",
        {"resource": "databasePage", "databaseId": _rl(""), "options": {}},
        ("notionApi", "Notion"),
    ),
    "airtable": Kind(
        "n8n-nodes-base.airtable",
        2.1,
        "Airtable",
        {"operation": "upsert", "base": _rl(""), "table": _rl(""), "options": {}},
        ("airtableTokenApi", "Airtable"),
    ),
    "postgres": Kind(
        "n8n-nodes-base.postgres",
        2.5,
        "Postgres",
        {"operation": "executeQuery", "query": "select now() as checked_at", "options": {}},
        ("postgres", "Postgres"),
    ),
    "telegram": Kind(
        "n8n-nodes-base.telegram",
        1.2,
        "Telegram",
        {"chatId": "={{ $json.chatId }}", "text": "={{ $json.output }}", "additionalFields": {}},
        ("telegramApi", "Telegram"),
    ),
    "jira": Kind(
        "n8n-nodes-base.jira",
        1,
        "Jira Software",
        {"project": _rl(""), "issueType": _rl(""), "summary": "={{ $json.title }}"},
        ("jiraSoftwareCloudApi", "Jira"),
    ),
    "github": Kind(
        "n8n-nodes-base.github",
        1,
        "GitHub",
        {"resource": "release", "operation": "update", "owner": _rl("your-org")},
        ("githubApi", "GitHub"),
    ),
    "stripe": Kind(
        "n8n-nodes-base.stripe",
        1,
        "Stripe",
        {"resource": "customer", "operation": "get", "customerId": "={{ $json.customer }}"},
        ("stripeApi", "Stripe"),
    ),
    "mailchimp": Kind(
        "n8n-nodes-base.mailchimp",
        1,
        "Mailchimp",
        {"resource": "campaign", "operation": "create", "options": {}},
        ("mailchimpApi", "Mailchimp"),
    ),
    "gcal": Kind(
        "n8n-nodes-base.googleCalendar",
        1.3,
        "Google Calendar",
        {"operation": "getAll", "calendar": _rl("primary"), "options": {}},
        ("googleCalendarOAuth2Api", "Google Calendar"),
    ),
    "gtasks": Kind(
        "n8n-nodes-base.googleTasks",
        1,
        "Google Tasks",
        {"task": "@default", "title": "={{ $json.title }}", "additionalFields": {}},
        ("googleTasksOAuth2Api", "Google Tasks"),
    ),
    "gdocs": Kind(
        "n8n-nodes-base.googleDocs",
        2,
        "Google Docs",
        {"operation": "create", "title": "={{ $json.title }}", "folderId": "default"},
        ("googleDocsOAuth2Api", "Google Docs"),
    ),
    "zendesk": Kind(
        "n8n-nodes-base.zendesk",
        1,
        "Zendesk",
        {"operation": "update", "id": "={{ $json.ticketId }}", "updateFields": {}},
        ("zendeskApi", "Zendesk"),
    ),
    # AI roots: take a model (and memory, tools, parser) through ai_* inputs.
    "agent": Kind(
        "@n8n/n8n-nodes-langchain.agent",
        1.7,
        "AI Agent",
        {"promptType": "define", "text": "={{ $json.text }}", "options": {}},
    ),
    "chain": Kind(
        "@n8n/n8n-nodes-langchain.chainLlm",
        1.5,
        "Basic LLM Chain",
        {"promptType": "define", "text": "={{ $json.text }}"},
    ),
    "extractor": Kind(
        "@n8n/n8n-nodes-langchain.informationExtractor",
        1,
        "Information Extractor",
        {"text": "={{ $json.text }}", "attributes": {"attributes": []}, "options": {}},
    ),
    # AI sub-nodes.
    "openai": Kind(
        "@n8n/n8n-nodes-langchain.lmChatOpenAi",
        1.2,
        "OpenAI Chat Model",
        {"model": _rl("gpt-4o-mini"), "options": {"temperature": 0.3}},
        ("openAiApi", "OpenAI"),
        connection="ai_languageModel",
    ),
    "anthropic": Kind(
        "@n8n/n8n-nodes-langchain.lmChatAnthropic",
        1.3,
        "Anthropic Chat Model",
        {"model": _rl("claude-3-5-sonnet-20241022"), "options": {"temperature": 0.3}},
        ("anthropicApi", "Anthropic"),
        connection="ai_languageModel",
    ),
    "memory": Kind(
        "@n8n/n8n-nodes-langchain.memoryBufferWindow",
        1.3,
        "Simple Memory",
        {"contextWindowLength": 10},
        connection="ai_memory",
    ),
    "tool_http": Kind(
        "@n8n/n8n-nodes-langchain.toolHttpRequest",
        1.1,
        "HTTP Request Tool",
        {"toolDescription": "Fetch a web page and return its text.", "url": "={{ $json.url }}"},
        connection="ai_tool",
    ),
    "tool_wikipedia": Kind(
        "@n8n/n8n-nodes-langchain.toolWikipedia", 1, "Wikipedia", {}, connection="ai_tool"
    ),
    "tool_calculator": Kind(
        "@n8n/n8n-nodes-langchain.toolCalculator", 1, "Calculator", {}, connection="ai_tool"
    ),
    "tool_think": Kind("@n8n/n8n-nodes-langchain.toolThink", 1, "Think", {}, connection="ai_tool"),
    "tool_serp": Kind(
        "@n8n/n8n-nodes-langchain.toolSerpApi",
        1,
        "SerpAPI",
        {"options": {}},
        ("serpApi", "SerpApi"),
        connection="ai_tool",
    ),
    "tool_postgres": Kind(
        "n8n-nodes-base.postgresTool",
        2.5,
        "Postgres Tool",
        {"operation": "executeQuery", "query": "={{ $fromAI('sql') }}", "options": {}},
        ("postgres", "Postgres"),
        connection="ai_tool",
    ),
    "parser": Kind(
        "@n8n/n8n-nodes-langchain.outputParserStructured",
        1.2,
        "Structured Output Parser",
        {"jsonSchemaExample": '{"category": "billing", "urgent": false, "reply": ""}'},
        connection="ai_outputParser",
    ),
}
AI_ROOTS = frozenset({"agent", "chain", "extractor"})


@dataclass(frozen=True)
class Step:
    kind: str
    name: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or KINDS[self.kind].name


def S(kind: str, name: str = "", **params: Any) -> Step:  # noqa: N802 - reads like a node list
    return Step(kind, name, params)


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


# --- products ------------------------------------------------------------------------------

FREE: tuple[str, int, int | None, int | None] = (PriceType.FREE, 0, None, None)


def one_time(cents: int) -> tuple[str, int, int | None, int | None]:
    return (PriceType.ONE_TIME, cents, None, None)


def monthly(cents: int, yearly: int | None = None) -> tuple[str, int, int | None, int | None]:
    return (PriceType.SUBSCRIPTION, 0, cents, yearly)


@dataclass(frozen=True)
class DemoProduct:
    title: str
    vendor: str
    category: str
    type: str
    price: tuple[str, int, int | None, int | None]
    summary: str
    intro: str
    highlights: Sequence[str]
    requirements: str
    tags: Sequence[str]
    complexity: str = Complexity.BEGINNER
    setup_minutes: int = 15
    flow: Flow | None = None
    usage: Sequence[str] = ()  # how to use an asset (workflows get setup steps from the flow)
    featured: bool = False
    # (commercial use, redistribution, modification)
    licence: tuple[bool, bool, bool] = (True, False, True)

    @property
    def slug(self) -> str:
        return slugify(self.title)


AGENT, WORKFLOW, ASSET = (
    ProductType.AI_AGENT,
    ProductType.N8N_WORKFLOW,
    ProductType.AUTOMATION_ASSET,
)
BEGINNER, INTERMEDIATE, ADVANCED = Complexity.BEGINNER, Complexity.INTERMEDIATE, Complexity.ADVANCED

PRODUCTS: list[DemoProduct] = [
    # Marketing
    DemoProduct(
        title="Newsletter Digest Builder",
        vendor="flowforge",
        category="email-marketing",
        type=WORKFLOW,
        price=one_time(1900),
        summary="Collects the week's published posts from Notion, writes a short intro and "
        "leaves a ready-to-review Mailchimp campaign every Monday.",
        intro="Most teams already write the content; the newsletter is the chore that slips. "
        "This workflow reads the posts you marked as published in a Notion database, picks the "
        "five with the most reads, asks a language model for a two-paragraph intro in your "
        "voice and creates a **draft** campaign in Mailchimp. Nothing is sent until an editor "
        "presses the button.",
        highlights=[
            "Runs every Monday at 07:00 in the workflow's time zone",
            "Ranks posts by a `reads` property, so stale posts never lead",
            "Creates a draft, never a scheduled send",
            "Pings the editor in Slack with a link to the draft",
        ],
        requirements="n8n 1.80 or later; a Notion database of posts with Status and Reads "
        "properties; a Mailchimp audience; an OpenAI API key; a Slack workspace.",
        tags=["newsletter", "notion", "mailchimp", "content"],
        complexity=INTERMEDIATE,
        setup_minutes=30,
        flow=Flow(
            S("schedule_weekly", "Every Monday 07:00"),
            [
                S("notion", "Fetch published posts", operation="getAll"),
                S("code", "Pick the week's top five"),
                S("chain", "Write the intro"),
                S("mailchimp", "Create campaign draft"),
                S("slack", "Tell the editor", channelId=_rl("#newsletter", "name")),
            ],
            ai=[S("openai")],
            note="Set the Notion database and the Mailchimp audience before the first run.",
        ),
    ),
    DemoProduct(
        title="Social Post Repurposer Agent",
        vendor="lighthouse",
        category="social-media",
        type=AGENT,
        price=monthly(1200, 12000),
        summary="Turns one blog post into a LinkedIn post, an X thread and a short newsletter "
        "blurb, and routes them for approval before anything is scheduled.",
        intro="Send the agent the URL of a new article and it reads the page, keeps the claims "
        "that are actually in the text and writes three variants sized for each network. Posts "
        "that mention numbers, customers or prices go to a human in Slack first; the rest land "
        "in your Airtable content calendar as drafts.",
        highlights=[
            "One webhook call per article, from your CMS or by hand",
            "Writes in the tone you describe in the system prompt",
            "Flags posts with figures or names for approval",
            "Keeps a short memory so follow-up edits stay consistent",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; Slack; an Airtable base with a "
        "Posts table.",
        tags=["social media", "linkedin", "content", "approval"],
        complexity=INTERMEDIATE,
        setup_minutes=25,
        flow=Flow(
            S("webhook", "New article published"),
            [
                S("http", "Fetch the article"),
                S("agent", "Repurpose the article"),
                S("set", "Shape the posts"),
                S("if", "Needs approval?"),
                S("slack", "Ask for approval", channelId=_rl("#social", "name")),
            ],
            ai=[S("openai"), S("memory")],
            otherwise=S("airtable", "Add to content calendar"),
        ),
        featured=True,
    ),
    DemoProduct(
        title="SEO Content Brief Generator",
        vendor="vera",
        category="seo-content",
        type=AGENT,
        price=one_time(2900),
        summary="Give it a keyword; it studies the current top results and writes a brief with "
        "search intent, outline, questions to answer and internal link ideas.",
        intro="Writers do better work from a good brief, and good briefs take an hour of "
        "reading search results. This agent does the reading: it searches the keyword, fetches "
        "the leading pages, extracts their headings and writes a brief into a new Google Doc. "
        "It never copies text from the pages it reads; it summarises what they cover and where "
        "the gaps are.",
        highlights=[
            "Search intent, audience and angle in the first paragraph",
            "An H2/H3 outline with what each section must answer",
            "People-also-ask style questions gathered from the results",
            "Sends the doc link to the writer by email",
        ],
        requirements="n8n 1.82 or later; an Anthropic API key; a SerpApi key; Google Docs and "
        "Gmail credentials.",
        tags=["seo", "content brief", "google docs", "research"],
        complexity=INTERMEDIATE,
        setup_minutes=20,
        flow=Flow(
            S("form_trigger", "Brief request form"),
            [
                S("agent", "Research and outline"),
                S("gdocs", "Create the brief"),
                S("gmail", "Send to the writer"),
            ],
            ai=[S("anthropic"), S("tool_serp", "Search results"), S("tool_http", "Read a page")],
        ),
        featured=True,
    ),
    DemoProduct(
        title="UTM Link Builder Sheet",
        vendor="vera",
        category="marketing",
        type=ASSET,
        price=FREE,
        summary="A Google Sheets template that builds consistent UTM links, checks them for "
        "typos and keeps a log of every campaign link your team creates.",
        intro="Broken attribution usually starts with `utm_source=Linkedin` in one place and "
        "`linkedin` in another. This sheet gives every campaign link the same vocabulary: "
        "sources and mediums come from drop-downs, names are lower-cased and spaces become "
        "hyphens, and a log tab records who made which link and when.",
        highlights=[
            "Drop-down lists for source, medium and campaign type",
            "Formulas that normalise case and spacing",
            "A warning column for links longer than 2,000 characters",
            "A log tab ready for a pivot table",
        ],
        requirements="A Google account (works in Excel too, without the drop-down colours).",
        tags=["utm", "google sheets", "analytics", "template"],
        setup_minutes=5,
        usage=[
            "Make a copy of the sheet into your own Drive.",
            "Edit the Sources and Mediums tabs to match your channels.",
            "Share the copy with your team with edit rights on the Builder tab only.",
        ],
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Weekly Ad Spend Digest",
        vendor="pipeline",
        category="marketing",
        type=WORKFLOW,
        price=monthly(900, 9000),
        summary="Pulls last week's spend per channel from your reporting API, compares it with "
        "budget and posts a digest to Slack, or emails finance when a channel overspends.",
        intro="A weekly habit for marketing leads: one message that says what was spent, "
        "where, and whether anything ran over. The workflow reads spend from any JSON "
        "endpoint (your warehouse API, a reporting tool, a sheet published as JSON), compares "
        "each channel with its budget and chooses the channel for the message.",
        highlights=[
            "Works with any endpoint that returns channel and amount",
            "Budgets live in the Code node, easy to edit",
            "Overspend goes to finance by email, the rest to Slack",
        ],
        requirements="n8n 1.76 or later; an HTTP endpoint with weekly spend; Slack; Gmail.",
        tags=["ads", "budget", "reporting", "slack"],
        complexity=BEGINNER,
        setup_minutes=15,
        flow=Flow(
            S("schedule_weekly", "Every Monday 08:00"),
            [
                S("http", "Fetch last week's spend"),
                S("code", "Compare with budget"),
                S("if", "Any channel over budget?"),
                S("gmail", "Email finance"),
            ],
            otherwise=S("slack", "Post the digest", channelId=_rl("#marketing", "name")),
        ),
    ),
    DemoProduct(
        title="Brand Voice Prompt Pack",
        vendor="lighthouse",
        category="writing-assistants",
        type=ASSET,
        price=one_time(1500),
        summary="Forty tested prompts and a one-page voice guide template that keep AI drafts "
        "sounding like your brand instead of like every other brand.",
        intro="A prompt pack built around one idea: describe your voice once, in a format "
        "models follow, then reuse it everywhere. The pack contains a fill-in voice guide "
        "(words you use, words you never use, sentence length, how you address readers) and "
        "forty prompts for emails, landing pages, release notes and social posts that read it.",
        highlights=[
            "A voice guide template with worked examples",
            "40 prompts grouped by channel, each with a bad and a good output",
            "Checklists for editing AI drafts before publishing",
            "Works with any chat model",
        ],
        requirements="Any AI chat assistant or API; a text editor.",
        tags=["prompts", "brand voice", "copywriting", "ai"],
        setup_minutes=30,
        usage=[
            "Fill in the voice guide with your team (about 30 minutes).",
            "Paste the guide at the top of any prompt from the pack.",
            "Edit the drafts with the checklist before publishing.",
        ],
    ),
    # Sales & CRM
    DemoProduct(
        title="Inbound Lead Qualifier",
        vendor="lighthouse",
        category="lead-generation",
        type=AGENT,
        price=monthly(2900, 29000),
        summary="Scores every inbound form lead against your ideal customer profile, creates a "
        "HubSpot deal for good fits and sends the rest a helpful nurture email.",
        intro="Sales teams waste their best hours on leads that were never going to buy. The "
        "qualifier reads each form submission, looks up the company website, and scores the "
        "lead from 0 to 100 against the profile you describe in plain language. It explains "
        "each score in one sentence so reps can disagree with it.",
        highlights=[
            "Scores with reasons, not just numbers",
            "Creates the HubSpot deal with the score and reasons in the notes",
            "Sends low-fit leads a resource email instead of silence",
            "Profile, threshold and email copy are all editable",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; a HubSpot private app token with "
        "contacts and deals scopes; Gmail.",
        tags=["lead scoring", "hubspot", "sales", "forms"],
        complexity=INTERMEDIATE,
        setup_minutes=30,
        flow=Flow(
            S("webhook", "Form submission"),
            [
                S("set", "Normalise the lead"),
                S("agent", "Qualify the lead"),
                S("if", "Score at least 70?"),
                S("hubspot", "Create deal", resource="deal", operation="create"),
            ],
            ai=[S("openai"), S("memory"), S("tool_http", "Read company website")],
            otherwise=S("gmail", "Send nurture email"),
        ),
        featured=True,
    ),
    DemoProduct(
        title="HubSpot Duplicate Contact Finder",
        vendor="flowforge",
        category="crm-hygiene",
        type=WORKFLOW,
        price=one_time(2400),
        summary="Checks new HubSpot contacts every night for likely duplicates (same email "
        "domain and name, or same phone) and lists merge candidates in a Google Sheet.",
        intro="Merging contacts automatically is how CRMs lose data, so this workflow does not "
        "merge anything. It compares the contacts created in the last day with the rest of "
        "the CRM, groups likely duplicates with a reason for each match, and appends them to "
        "a sheet where someone can review and merge them in HubSpot.",
        highlights=[
            "Matches on normalised email, name plus domain, and phone",
            "Explains why each pair was flagged",
            "Never writes to HubSpot",
            "Quiet on nights with nothing to report",
        ],
        requirements="n8n 1.76 or later; a HubSpot private app token (read contacts); "
        "Google Sheets.",
        tags=["hubspot", "duplicates", "crm", "data quality"],
        complexity=INTERMEDIATE,
        setup_minutes=20,
        flow=Flow(
            S("schedule_daily", "Every night 02:00"),
            [
                S("hubspot", "Fetch recent contacts", operation="getRecentlyCreatedUpdated"),
                S("code", "Group likely duplicates"),
                S("if", "Any duplicates?"),
                S("sheets", "Log merge candidates"),
            ],
        ),
    ),
    DemoProduct(
        title="Cold Email First-Line Writer",
        vendor="vera",
        category="sales-outreach",
        type=AGENT,
        price=one_time(3900),
        summary="Reads each prospect's company site and writes one specific, honest opening "
        "line per row of your prospect sheet, ready to paste into your sequencer.",
        intro="A personal first line works only if it is true and specific. The agent visits "
        "each prospect's website, finds one concrete thing worth mentioning (a launch, a "
        "hiring page, a case study) and writes a single sentence about it. If it finds "
        "nothing specific it says so instead of inventing flattery.",
        highlights=[
            "Processes a Google Sheet of prospects in batches",
            "Writes the line and the source URL it used",
            "Leaves the cell empty rather than making something up",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; Google Sheets with Name, Company "
        "and Website columns.",
        tags=["cold email", "outreach", "personalisation", "google sheets"],
        complexity=BEGINNER,
        setup_minutes=15,
        flow=Flow(
            S("schedule_hourly", "Every hour"),
            [
                S("sheets", "Read new prospects", operation="read"),
                S("agent", "Write the first line"),
                S("sheets", "Save the line", operation="update"),
            ],
            ai=[S("openai"), S("tool_http", "Visit company website")],
        ),
    ),
    DemoProduct(
        title="Deal Won Celebration and Log",
        vendor="flowforge",
        category="sales-crm",
        type=WORKFLOW,
        price=FREE,
        summary="Posts a celebration to #sales when a deal moves to Won and logs every stage "
        "change to a Google Sheet for your pipeline history.",
        intro="A small workflow with a real effect on morale: every time a deal is won, the "
        "team hears about it, with the amount and the rep's name. Every other stage change is "
        "logged to a sheet, which quietly becomes the pipeline history your CRM does not keep.",
        highlights=[
            "Works with any CRM that can call a webhook on deal updates",
            "Message text is a single field you can edit",
            "Stage history sheet with timestamps",
        ],
        requirements="n8n 1.70 or later; a CRM webhook on deal updates; Slack; Google Sheets.",
        tags=["sales", "slack", "pipeline", "free"],
        setup_minutes=10,
        flow=Flow(
            S("webhook", "Deal updated"),
            [
                S("set", "Pick deal fields"),
                S("if", "Stage is Won?"),
                S("slack", "Celebrate in #sales", channelId=_rl("#sales", "name")),
            ],
            otherwise=S("sheets", "Log the stage change"),
        ),
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Discovery Call Prep Template",
        vendor="vera",
        category="sales-outreach",
        type=ASSET,
        price=FREE,
        summary="A Notion template for preparing discovery calls: research checklist, question "
        "bank by persona and a one-page call summary that maps to CRM fields.",
        intro="Good discovery calls are prepared in ten minutes with the same checklist every "
        "time. This template gives reps a research checklist, a bank of open questions sorted "
        "by buyer persona, and a summary page whose headings match typical CRM fields, so "
        "notes go into the CRM without rewriting.",
        highlights=[
            "Research checklist with time boxes",
            "Question bank for economic buyers, users and champions",
            "Summary page mapped to CRM fields",
        ],
        requirements="A Notion workspace (free plan works).",
        tags=["notion", "sales", "template", "discovery"],
        setup_minutes=5,
        usage=[
            "Duplicate the template into your Notion workspace.",
            "Adjust the personas and questions to your market.",
            "Create one page per call from the template button.",
        ],
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Call Notes to CRM Agent",
        vendor="lighthouse",
        category="crm-hygiene",
        type=AGENT,
        price=monthly(1900, 19000),
        summary="Turns a sales call transcript into CRM updates: next steps, pain points, "
        "budget signals and a short summary posted to the deal's Slack channel.",
        intro="Reps hate data entry and managers hate empty CRM fields. Send this agent a call "
        "transcript (from your recorder's webhook) and it extracts next steps with dates, the "
        "problems the customer described in their words, any budget or timeline signals, and "
        "writes them to the HubSpot contact. A four-line summary goes to Slack.",
        highlights=[
            "Structured output, validated before anything is written",
            "Keeps the customer's own words for pain points",
            "Never changes deal stage or amount",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; HubSpot; Slack; a call recorder "
        "that can send transcripts by webhook.",
        tags=["crm", "transcripts", "hubspot", "sales"],
        complexity=INTERMEDIATE,
        setup_minutes=25,
        flow=Flow(
            S("webhook", "Transcript ready"),
            [
                S("agent", "Extract CRM updates"),
                S("hubspot", "Update the contact"),
                S("slack", "Post call summary"),
            ],
            ai=[S("openai"), S("parser")],
        ),
    ),
    DemoProduct(
        title="Lead Enrichment Pipeline",
        vendor="pipeline",
        category="lead-generation",
        type=WORKFLOW,
        price=one_time(1900),
        summary="Enriches new leads with company size, industry and country from your "
        "enrichment API of choice and upserts them into Airtable with a data-quality flag.",
        intro="Enrichment vendors change; your pipeline should not. This workflow calls any "
        "enrichment API that takes a domain and returns JSON, maps the fields you care about "
        "in one Code node and upserts the lead into Airtable. Leads the API cannot match are "
        "flagged instead of dropped.",
        highlights=[
            "Vendor-neutral: change one URL and one mapping",
            "Upserts on email, so replays are safe",
            "Flags unmatched domains for manual research",
        ],
        requirements="n8n 1.76 or later; an enrichment API key (header auth); Airtable.",
        tags=["enrichment", "airtable", "leads", "api"],
        complexity=INTERMEDIATE,
        setup_minutes=20,
        flow=Flow(
            S("webhook", "New lead"),
            [
                S("http", "Look up the company"),
                S("code", "Map firmographics"),
                S("airtable", "Upsert the lead"),
            ],
        ),
    ),
    # Customer Support
    DemoProduct(
        title="Support Inbox Triage Agent",
        vendor="quietloop",
        category="helpdesk",
        type=AGENT,
        price=monthly(3900, 39000),
        summary="Reads every new support email, labels it by topic and urgency, drafts a reply "
        "from your help articles and pages the on-call person for urgent ones.",
        intro="The first pass through a support inbox is the same every morning: what is this "
        "about, how urgent is it, have we answered it before. The triage agent does that pass "
        "as emails arrive. It returns a category, an urgency flag and a draft reply in a fixed "
        "JSON shape, so the next steps are ordinary workflow logic you can read and change.",
        highlights=[
            "Structured output: category, urgency, draft reply",
            "Urgent emails page the on-call person in Slack",
            "Drafts are saved as Gmail drafts, never sent automatically",
            "Remembers the thread so follow-ups keep context",
        ],
        requirements="n8n 1.82 or later; Gmail (OAuth); an OpenAI API key; Slack.",
        tags=["support", "triage", "gmail", "slack"],
        complexity=ADVANCED,
        setup_minutes=45,
        flow=Flow(
            S("gmail_trigger", "New support email"),
            [
                S("agent", "Classify and draft"),
                S("if", "Urgent?"),
                S("slack", "Page on-call", channelId=_rl("#support-urgent", "name")),
            ],
            ai=[S("openai"), S("memory"), S("parser")],
            otherwise=S("gmail", "Save draft reply", resource="draft", operation="create"),
            note="Start with the Slack node disabled for a day and read the drafts.",
        ),
        featured=True,
    ),
    DemoProduct(
        title="Website FAQ Chatbot",
        vendor="quietloop",
        category="chatbots",
        type=AGENT,
        price=one_time(4900),
        summary="A chat widget agent that answers from your help centre, says when it does not "
        "know and offers a human hand-over instead of guessing.",
        intro="Visitors ask the same twenty questions. This agent answers them from your help "
        "centre pages, quotes the article it used and links to it. When the answer is not in "
        "your content it says so and offers to pass the conversation to your team, which is "
        "what customers actually want from a bot.",
        highlights=[
            "Answers only from pages it fetched during the conversation",
            "Links the source article in every answer",
            "Short conversation memory for follow-up questions",
            "Uses n8n's hosted chat page or your own widget",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; a public help centre.",
        tags=["chatbot", "faq", "help centre", "support"],
        complexity=INTERMEDIATE,
        setup_minutes=30,
        flow=Flow(
            S("chat_trigger", "Visitor message"),
            [S("agent", "Answer from the help centre")],
            ai=[S("openai"), S("memory"), S("tool_http", "Search help articles")],
        ),
        featured=True,
    ),
    DemoProduct(
        title="Unhappy Customer Alert",
        vendor="quietloop",
        category="customer-support",
        type=WORKFLOW,
        price=FREE,
        summary="When a satisfaction survey comes back with a low score, flags the ticket in "
        "Zendesk and tells the team lead in Slack within a minute.",
        intro="A bad survey answer is a chance to fix things while the customer is still "
        "listening. The workflow receives survey results by webhook, and for scores of 2 or "
        "less it tags the original ticket in Zendesk and posts the comment to Slack for the "
        "team lead. Good scores are logged to a sheet for the monthly report.",
        highlights=[
            "Threshold and tags are plain fields",
            "Works with any survey tool that can send a webhook",
            "Keeps every score in a Google Sheet",
        ],
        requirements="n8n 1.70 or later; Zendesk; Slack; Google Sheets.",
        tags=["csat", "zendesk", "slack", "free"],
        setup_minutes=10,
        flow=Flow(
            S("webhook", "Survey answered"),
            [
                S("set", "Read the score"),
                S("if", "Score 2 or less?"),
                S("zendesk", "Tag the ticket"),
                S("slack", "Tell the team lead"),
            ],
            otherwise=S("sheets", "Log the score"),
        ),
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Telegram Support Bot Starter",
        vendor="vera",
        category="chatbots",
        type=AGENT,
        price=FREE,
        summary="A minimal Telegram bot with an AI agent behind it: keeps per-chat memory and "
        "replies in the same chat. A clean starting point for your own bot.",
        intro="Three nodes and a model: that is all a useful Telegram bot needs to start. The "
        "starter listens for messages, keeps a short memory per chat and replies in the same "
        "chat. The system prompt is written to be replaced, with comments on what to put in "
        "it.",
        highlights=[
            "Per-chat memory keyed on the Telegram chat id",
            "A system prompt template with guidance",
            "Easy to extend with tools",
        ],
        requirements="n8n 1.82 or later; a Telegram bot token from BotFather; an OpenAI API key.",
        tags=["telegram", "chatbot", "starter", "free"],
        setup_minutes=10,
        flow=Flow(
            S("telegram_trigger", "Incoming message"),
            [S("agent", "Reply to the user"), S("telegram", "Send the reply")],
            ai=[S("openai"), S("memory")],
        ),
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Support Macro Library",
        vendor="quietloop",
        category="helpdesk",
        type=ASSET,
        price=one_time(900),
        summary="Sixty support macros for SaaS teams, written to be kind and specific: refunds, "
        "outages, bugs, feature requests and account access.",
        intro="Macros should save typing without sounding like macros. These sixty replies are "
        "short, name the next step and avoid the phrases customers have learned to distrust. "
        "They come as CSV for import into most helpdesks and as Markdown for everything else.",
        highlights=[
            "60 macros in 8 groups",
            "Placeholders in one consistent format",
            "CSV for helpdesk import, Markdown for reading",
        ],
        requirements="Any helpdesk that imports CSV macros, or copy and paste.",
        tags=["support", "macros", "templates", "saas"],
        setup_minutes=20,
        usage=[
            "Import the CSV into your helpdesk, or open the Markdown file.",
            "Replace the placeholders for product name and support hours.",
            "Retire the macros you do not need before sharing them with the team.",
        ],
    ),
    DemoProduct(
        title="Refund Request Router",
        vendor="ledgerly",
        category="helpdesk",
        type=WORKFLOW,
        price=one_time(1500),
        summary="Checks refund requests against the original Stripe charge and either confirms "
        "small ones to the customer or asks finance to approve larger ones in Slack.",
        intro="Refund requests stall when nobody knows who may approve them. The router looks "
        "up the customer and charge in Stripe, applies your limit (50 by default, in the "
        "charge currency) and sends small refunds straight to a confirmation email while "
        "larger ones go to finance with the charge details attached.",
        highlights=[
            "Reads Stripe, never refunds by itself",
            "Approval limit in one field",
            "Finance gets the customer's history in the message",
        ],
        requirements="n8n 1.76 or later; a Stripe restricted key (read customers and charges); "
        "Gmail; Slack.",
        tags=["refunds", "stripe", "support", "approval"],
        complexity=INTERMEDIATE,
        setup_minutes=20,
        flow=Flow(
            S("webhook", "Refund form"),
            [
                S("stripe", "Look up the customer"),
                S("if", "Under the limit?"),
                S("gmail", "Confirm to the customer"),
            ],
            otherwise=S("slack", "Ask finance to approve", channelId=_rl("#finance", "name")),
        ),
    ),
    # Data & Analytics
    DemoProduct(
        title="Daily KPI Snapshot to Slack",
        vendor="pipeline",
        category="reporting",
        type=WORKFLOW,
        price=FREE,
        summary="Runs one SQL query every morning and posts yesterday's key numbers to Slack "
        "as a small table, with the change from the day before.",
        intro="The cheapest dashboard is a message people already read. This workflow runs a "
        "query you write against your Postgres database, formats the result as a compact "
        "table with day-over-day change and arrows, and posts it to a channel at 08:00.",
        highlights=[
            "Your SQL, your numbers: one query, any columns",
            "Day-over-day change computed in the Code node",
            "Uses a read-only database user",
        ],
        requirements="n8n 1.70 or later; a read-only Postgres user; Slack.",
        tags=["kpi", "postgres", "slack", "reporting", "free"],
        setup_minutes=10,
        flow=Flow(
            S("schedule_daily", "Every morning 08:00"),
            [
                S("postgres", "Query yesterday's KPIs"),
                S("code", "Format the table"),
                S("slack", "Post to #metrics", channelId=_rl("#metrics", "name")),
            ],
        ),
        featured=True,
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Web Page Change Monitor",
        vendor="pipeline",
        category="web-scraping",
        type=WORKFLOW,
        price=one_time(1200),
        summary="Watches a section of any public page (a pricing table, a job board, a status "
        "page) and sends a Telegram message when it changes.",
        intro="Point the monitor at a URL and a CSS selector. Every hour it fetches the page, "
        "extracts the section, compares a hash with the last run (kept in the workflow's "
        "static data) and messages you only when something changed, with the new text.",
        highlights=[
            "Watches one section, not the whole noisy page",
            "Remembers the last version between runs",
            "Respects a polite hourly schedule by default",
        ],
        requirements="n8n 1.70 or later; a Telegram bot; the page must be public and allow "
        "automated access.",
        tags=["monitoring", "scraping", "telegram", "alerts"],
        setup_minutes=10,
        flow=Flow(
            S("schedule_hourly", "Every hour"),
            [
                S("http", "Fetch the page"),
                S("html", "Extract the section"),
                S("code", "Compare with last run"),
                S("if", "Changed?"),
                S("telegram", "Send the change"),
            ],
        ),
    ),
    DemoProduct(
        title="Ask Your Database Agent",
        vendor="pipeline",
        category="data-analytics",
        type=AGENT,
        price=monthly(4900, 49000),
        summary="A chat agent that answers business questions by writing read-only SQL against "
        "your Postgres database and explaining the result in plain words.",
        intro="Analysts spend half their day on questions like *how many trials converted last "
        "month*. This agent answers them: it reads your schema, writes a query, runs it through "
        "a read-only user, and explains the number along with the SQL it used so anyone can "
        "check the work.",
        highlights=[
            "Shows the SQL with every answer",
            "Designed for a read-only database role",
            "Calculator tool for follow-up arithmetic",
            "Conversation memory for drill-down questions",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; a read-only Postgres user with "
        "access to the reporting schema.",
        tags=["sql", "postgres", "analytics", "agent"],
        complexity=ADVANCED,
        setup_minutes=40,
        flow=Flow(
            S("chat_trigger", "Question from chat"),
            [S("agent", "Answer with SQL")],
            ai=[
                S("openai"),
                S("memory"),
                S("tool_postgres", "Run read-only query"),
                S("tool_calculator"),
            ],
            note="Create a database role with SELECT on the reporting schema only.",
        ),
    ),
    DemoProduct(
        title="CSV Cleanup Toolkit",
        vendor="pipeline",
        category="data-pipelines",
        type=ASSET,
        price=FREE,
        summary="Small Python scripts that fix the usual CSV problems: encodings, delimiters, "
        "duplicate rows, stray whitespace and dates in five formats.",
        intro="Every import fails for one of the same six reasons. The toolkit is a folder of "
        "single-purpose Python scripts, each with a `--help` and no dependencies beyond the "
        "standard library, that you can chain in a shell or call from an n8n Execute Command "
        "node.",
        highlights=[
            "Detects and converts encodings and delimiters",
            "Normalises dates to ISO 8601",
            "Removes exact and near-duplicate rows",
            "Standard library only, Python 3.11+",
        ],
        requirements="Python 3.11 or later.",
        tags=["csv", "python", "data cleaning", "free"],
        complexity=INTERMEDIATE,
        setup_minutes=5,
        usage=[
            "Unzip the folder anywhere on your machine or server.",
            "Run each script with `--help` to see its options.",
            "Chain them in a shell pipeline or an Execute Command node.",
        ],
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Airtable to Postgres Sync",
        vendor="flowforge",
        category="data-pipelines",
        type=WORKFLOW,
        price=one_time(2900),
        summary="Copies changed Airtable records into a Postgres table every hour with an "
        "upsert, so your analysts can join Airtable data with everything else.",
        intro="Airtable is where teams work; Postgres is where reporting happens. The sync "
        "lists records modified since the last run, maps Airtable field names to column names "
        "in one place and upserts them on the record id. Deleted records are marked, not "
        "removed, so history survives.",
        highlights=[
            "Incremental: only records changed since the last run",
            "One mapping object for field names and types",
            "Soft-deletes records removed from Airtable",
        ],
        requirements="n8n 1.76 or later; an Airtable personal access token; a Postgres user "
        "that can write one table.",
        tags=["airtable", "postgres", "sync", "etl"],
        complexity=ADVANCED,
        setup_minutes=35,
        flow=Flow(
            S("schedule_hourly", "Every hour"),
            [
                S("airtable", "List changed records", operation="search"),
                S("code", "Map fields to columns"),
                S("postgres", "Upsert rows", operation="upsert"),
                S("slack", "Report failures"),
            ],
        ),
        featured=True,
    ),
    DemoProduct(
        title="Marketing Dashboard Template for Looker Studio",
        vendor="vera",
        category="reporting",
        type=ASSET,
        price=one_time(2500),
        summary="A four-page Looker Studio dashboard for traffic, campaigns, conversions and "
        "content, with a setup guide for connecting your own data sources.",
        intro="A dashboard template that answers the questions marketing leads actually ask "
        "on Monday: where did visitors come from, which campaigns converted, which pages "
        "earned sign-ups. It ships with a sample data source so you can explore it before "
        "connecting your own.",
        highlights=[
            "Four pages: overview, campaigns, conversions, content",
            "Consistent colour for each channel across pages",
            "A written guide for swapping in your data sources",
        ],
        requirements="A Google account; analytics data in a source Looker Studio can read.",
        tags=["dashboard", "looker studio", "analytics", "marketing"],
        setup_minutes=25,
        usage=[
            "Open the template link and choose Use my own copy.",
            "Connect your analytics source in place of the sample data.",
            "Follow the guide to map conversion events.",
        ],
    ),
    # DevOps & IT
    DemoProduct(
        title="Uptime Checker with Slack Alerts",
        vendor="pipeline",
        category="monitoring-alerts",
        type=WORKFLOW,
        price=FREE,
        summary="Checks a list of URLs every five minutes and alerts Slack when one fails, "
        "with the status code and response time.",
        intro="Not every service needs a monitoring product. The checker requests each URL in "
        "a list every five minutes, treats non-2xx answers and timeouts as failures and posts "
        "one message per failing URL, so a noisy endpoint does not bury the others.",
        highlights=[
            "URL list kept in one Code node",
            "Timeout and expected status configurable",
            "One message per failing URL",
        ],
        requirements="n8n 1.70 or later; Slack.",
        tags=["uptime", "monitoring", "slack", "free"],
        setup_minutes=5,
        flow=Flow(
            S("schedule_minutes", "Every 5 minutes"),
            [
                S("code", "List the URLs"),
                S("http", "Check each URL"),
                S("if", "Failed?"),
                S("slack", "Alert #ops", channelId=_rl("#ops", "name")),
            ],
        ),
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Release Notes Writer",
        vendor="flowforge",
        category="ci-cd",
        type=AGENT,
        price=one_time(1900),
        summary="When a GitHub release is drafted, reads the merged pull requests and writes "
        "release notes for users, grouped into new, improved and fixed.",
        intro="Commit messages are for developers; release notes are for users. When you draft "
        "a release on GitHub, the writer collects the pull requests merged since the previous "
        "tag, drops internal chores, and writes notes in plain language grouped by kind. The "
        "draft is updated in place for you to edit and publish.",
        highlights=[
            "Triggered by GitHub release events",
            "Skips chores, refactors and dependency bumps",
            "Updates the draft release; you publish it",
        ],
        requirements="n8n 1.82 or later; a GitHub token with repository access; an Anthropic "
        "API key.",
        tags=["github", "release notes", "changelog", "ai"],
        complexity=INTERMEDIATE,
        setup_minutes=20,
        flow=Flow(
            S("github_trigger", "Release drafted"),
            [
                S("http", "List merged pull requests"),
                S("chain", "Write the notes"),
                S("github", "Update the draft release"),
            ],
            ai=[S("anthropic")],
        ),
    ),
    DemoProduct(
        title="Incident Postmortem Assistant",
        vendor="quietloop",
        category="devops-it",
        type=AGENT,
        price=monthly(2900, 29000),
        summary="After an incident is resolved, gathers the timeline and drafts a blameless "
        "postmortem in Notion, then asks the team to review it in Slack.",
        intro="Postmortems get written when the first draft is already there. When your "
        "incident tool marks an incident resolved, the assistant fetches its timeline, drafts "
        "a blameless write-up (summary, impact, timeline, contributing factors, follow-ups) in "
        "a Notion page and posts the link for review. It asks questions where the timeline has "
        "gaps rather than filling them in.",
        highlights=[
            "Blameless structure and language by default",
            "Marks gaps in the timeline as open questions",
            "Follow-ups listed as checkboxes with owners to fill in",
        ],
        requirements="n8n 1.82 or later; an incident tool with a webhook and timeline API; "
        "an OpenAI API key; Notion; Slack.",
        tags=["incidents", "postmortem", "notion", "sre"],
        complexity=ADVANCED,
        setup_minutes=40,
        flow=Flow(
            S("webhook", "Incident resolved"),
            [
                S("http", "Fetch the timeline"),
                S("agent", "Draft the postmortem"),
                S("notion", "Create the postmortem page"),
                S("slack", "Ask for review", channelId=_rl("#incidents", "name")),
            ],
            ai=[S("openai"), S("tool_think")],
        ),
    ),
    DemoProduct(
        title="Jira Bug Report Tidier",
        vendor="flowforge",
        category="devops-it",
        type=WORKFLOW,
        price=one_time(1900),
        summary="Adds a component, labels and a checklist of missing details to new Jira bug "
        "reports, and posts the tidied issue to the team's Slack channel.",
        intro="Bug reports arrive half-filled. This workflow runs on every new bug: it guesses "
        "the component from keywords you define, adds labels for platform and severity, and "
        "comments with a checklist of what is missing (steps, expected result, version). The "
        "team channel gets a one-line summary with the link.",
        highlights=[
            "Keyword rules in a single Code node",
            "Comments instead of rejecting incomplete reports",
            "Slack summary with component and severity",
        ],
        requirements="n8n 1.76 or later; Jira Cloud; Slack.",
        tags=["jira", "bugs", "triage", "slack"],
        complexity=BEGINNER,
        setup_minutes=15,
        flow=Flow(
            S("webhook", "Jira issue created"),
            [
                S("code", "Guess component and labels"),
                S("jira", "Update the issue", operation="update"),
                S("slack", "Post to the team"),
            ],
        ),
    ),
    DemoProduct(
        title="Security Advisory Digest",
        vendor="pipeline",
        category="security",
        type=WORKFLOW,
        price=monthly(700, 7000),
        summary="Checks a public advisory feed every morning against the packages you use and "
        "opens a Jira ticket for each advisory that affects you.",
        intro="Dependency advisories are only useful if someone sees the ones that matter. The "
        "digest fetches new advisories from a public JSON feed, matches them against the "
        "package list you keep in the workflow, and opens a Jira ticket per match with the "
        "severity, affected versions and the fixed version.",
        highlights=[
            "Your package list, kept next to the matching logic",
            "One ticket per advisory, never duplicates",
            "Silent on days without matches",
        ],
        requirements="n8n 1.76 or later; Jira Cloud; a public advisory feed URL.",
        tags=["security", "advisories", "jira", "dependencies"],
        complexity=INTERMEDIATE,
        setup_minutes=20,
        flow=Flow(
            S("schedule_daily", "Every morning 06:00"),
            [
                S("http", "Fetch new advisories"),
                S("code", "Match your packages"),
                S("if", "Any matches?"),
                S("jira", "Open a ticket", operation="create"),
            ],
        ),
    ),
    DemoProduct(
        title="Server Runbook Templates",
        vendor="quietloop",
        category="monitoring-alerts",
        type=ASSET,
        price=one_time(1900),
        summary="Twelve Markdown runbooks for common server alerts (disk full, high load, "
        "certificate expiry, failed backups) with checks, fixes and escalation paths.",
        intro="At 3 a.m. nobody wants to think from first principles. Each runbook in this "
        "pack follows the same shape: what the alert means, what to check first, safe fixes "
        "in order of risk, when to escalate and what to write down afterwards. They are "
        "plain Markdown so they live next to your code.",
        highlights=[
            "12 runbooks in one consistent format",
            "Commands for Debian and Ubuntu servers",
            "Escalation sections to fill in with your team's names",
        ],
        requirements="A wiki or repository that renders Markdown.",
        tags=["runbooks", "on-call", "linux", "markdown"],
        complexity=INTERMEDIATE,
        setup_minutes=30,
        usage=[
            "Copy the Markdown files into your wiki or repository.",
            "Fill in the escalation contacts in each runbook.",
            "Link each runbook from the matching alert's description.",
        ],
        licence=(True, True, True),
    ),
    # Finance
    DemoProduct(
        title="Overdue Invoice Chaser",
        vendor="ledgerly",
        category="invoicing",
        type=WORKFLOW,
        price=one_time(2900),
        summary="Sends polite, escalating reminders for overdue invoices and tells the account "
        "owner in Slack once an invoice is more than 30 days late.",
        intro="Chasing invoices is awkward, so it does not happen. The chaser reads overdue "
        "invoices from your accounting API each morning, picks the reminder stage by days "
        "overdue (friendly, firm, final) and emails the customer. Past 30 days it stops "
        "emailing and hands the invoice to a person in Slack.",
        highlights=[
            "Three reminder stages with editable copy",
            "Never sends the same stage twice",
            "Hands long-overdue invoices to a human",
        ],
        requirements="n8n 1.76 or later; an accounting tool with an invoices API; Gmail; Slack.",
        tags=["invoices", "reminders", "accounts receivable", "gmail"],
        complexity=INTERMEDIATE,
        setup_minutes=25,
        flow=Flow(
            S("schedule_daily", "Every morning 09:00"),
            [
                S("http", "List overdue invoices"),
                S("code", "Pick the reminder stage"),
                S("if", "More than 30 days?"),
                S("slack", "Tell the account owner", channelId=_rl("#finance", "name")),
            ],
            otherwise=S("gmail", "Send the reminder"),
        ),
        featured=True,
    ),
    DemoProduct(
        title="Receipt Extraction Agent",
        vendor="ledgerly",
        category="expenses",
        type=AGENT,
        price=monthly(1500, 15000),
        summary="Reads receipts forwarded to a mailbox, extracts merchant, date, amount, "
        "currency and tax, and adds a row to your expense log.",
        intro="Forward a receipt, get a row. The agent watches a Gmail label, reads the email "
        "body and attachment text, and extracts the fields an expense log needs. Amounts are "
        "kept in the receipt's currency with the currency code next to them; nothing is "
        "converted behind your back.",
        highlights=[
            "Merchant, date, amount, currency, tax and category",
            "Marks rows it was unsure about for review",
            "Works with any Google Sheet layout",
        ],
        requirements="n8n 1.82 or later; Gmail; Google Sheets; an OpenAI API key.",
        tags=["receipts", "expenses", "extraction", "google sheets"],
        complexity=BEGINNER,
        setup_minutes=15,
        flow=Flow(
            S("gmail_trigger", "Receipt forwarded"),
            [S("extractor", "Extract receipt fields"), S("sheets", "Add to expense log")],
            ai=[S("openai")],
        ),
    ),
    DemoProduct(
        title="Failed Payment Recovery",
        vendor="ledgerly",
        category="payments",
        type=WORKFLOW,
        price=monthly(1900, 19000),
        summary="When a Stripe subscription payment fails, emails the customer a clear fix-it "
        "link and lets the revenue channel know who is at risk.",
        intro="Most failed payments are expired cards, not churn. When Stripe reports a failed "
        "invoice payment, the workflow fetches the customer, writes a short email with the "
        "amount and a link to update the card, and posts the account to your revenue channel "
        "so someone can reach out personally to the big ones.",
        highlights=[
            "Triggered by Stripe's invoice.payment_failed event",
            "Plain, friendly email copy you can edit",
            "Revenue channel sees amount and plan",
        ],
        requirements="n8n 1.76 or later; a Stripe restricted key; Gmail; Slack.",
        tags=["stripe", "dunning", "churn", "payments"],
        complexity=BEGINNER,
        setup_minutes=15,
        flow=Flow(
            S("stripe_trigger", "Payment failed"),
            [
                S("stripe", "Get the customer"),
                S("set", "Build the message"),
                S("gmail", "Email the customer"),
                S("slack", "Notify #revenue", channelId=_rl("#revenue", "name")),
            ],
        ),
    ),
    DemoProduct(
        title="Month-End Close Checklist",
        vendor="ledgerly",
        category="finance",
        type=ASSET,
        price=FREE,
        summary="A month-end close checklist for small companies, as a Google Sheet and a "
        "Notion database, with owners, due days and links to evidence.",
        intro="Closing the books goes faster when nobody has to remember the list. This "
        "checklist covers bank reconciliation, receivables, payables, payroll, accruals and "
        "reporting, each with a due day relative to month end, an owner column and a place "
        "to link the evidence.",
        highlights=[
            "45 tasks in six groups",
            "Due days relative to month end",
            "Same content as a sheet and as a Notion database",
        ],
        requirements="Google Sheets or Notion.",
        tags=["accounting", "checklist", "month end", "free"],
        setup_minutes=10,
        usage=[
            "Copy the sheet or duplicate the Notion database.",
            "Assign an owner to each task.",
            "Reset the status column at the start of each month.",
        ],
        licence=(True, True, True),
    ),
    DemoProduct(
        title="13-Week Cash Flow Forecast",
        vendor="ledgerly",
        category="finance",
        type=ASSET,
        price=one_time(3500),
        summary="A 13-week rolling cash flow forecast in Google Sheets with scenario toggles, "
        "a runway chart and notes on how to keep it honest.",
        intro="A cash forecast is only useful if it is updated every week, so this one is "
        "built to be updated in fifteen minutes. Enter actuals for the week that ended, and "
        "the model rolls forward, compares forecast with actual and shows runway under base, "
        "cautious and optimistic scenarios.",
        highlights=[
            "Rolling 13-week layout with actual vs forecast",
            "Three scenarios with one toggle",
            "Runway chart and variance notes",
        ],
        requirements="Google Sheets (Excel works without the scenario toggle).",
        tags=["cash flow", "forecast", "google sheets", "finance"],
        complexity=INTERMEDIATE,
        setup_minutes=45,
        usage=[
            "Make a copy and enter your opening balance.",
            "Fill in recurring income and costs on the Inputs tab.",
            "Each week, enter actuals and roll the forecast forward.",
        ],
        licence=(True, False, True),
    ),
    DemoProduct(
        title="Expense Policy Q&A Bot",
        vendor="vera",
        category="expenses",
        type=AGENT,
        price=FREE,
        summary="A chat agent that answers employees' expense questions from your published "
        "policy page and quotes the rule it relied on.",
        intro="*Can I expense this?* is the most common question finance gets. The bot fetches "
        "your expense policy page, answers from it, and quotes the sentence it relied on. If "
        "the policy does not cover the case, it says so and suggests asking finance.",
        highlights=[
            "Answers only from your policy page",
            "Quotes the rule with every answer",
            "Admits when the policy is silent",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; a policy page the workflow can reach.",
        tags=["expenses", "policy", "chatbot", "free"],
        setup_minutes=10,
        flow=Flow(
            S("chat_trigger", "Employee question"),
            [S("agent", "Answer from the policy")],
            ai=[S("openai"), S("memory"), S("tool_http", "Read the policy page")],
        ),
        licence=(True, True, True),
    ),
    # Productivity
    DemoProduct(
        title="Meeting Notes Summariser",
        vendor="quietloop",
        category="meetings",
        type=AGENT,
        price=monthly(900, 9000),
        summary="Turns a meeting transcript into decisions, action items with owners and open "
        "questions, saves them to Notion and emails the attendees.",
        intro="Nobody reads a transcript. The summariser reads it for you and keeps three "
        "things: what was decided, who will do what by when, and what is still open. The "
        "summary goes into your Notion meeting database and to every attendee by email.",
        highlights=[
            "Decisions, actions with owners, open questions",
            "Names taken from the transcript's speaker labels",
            "Saves to Notion and emails attendees",
        ],
        requirements="n8n 1.80 or later; an OpenAI API key; Notion; Gmail; a recorder that "
        "sends transcripts by webhook.",
        tags=["meetings", "summaries", "notion", "transcripts"],
        setup_minutes=15,
        flow=Flow(
            S("webhook", "Transcript ready"),
            [
                S("chain", "Summarise decisions and actions"),
                S("notion", "Save to meeting notes"),
                S("gmail", "Email the attendees"),
            ],
            ai=[S("openai")],
        ),
    ),
    DemoProduct(
        title="Focus Time Guard",
        vendor="vera",
        category="scheduling",
        type=WORKFLOW,
        price=FREE,
        summary="Looks at tomorrow's calendar every evening and books the free gaps of 90 "
        "minutes or more as focus time before meetings fill them.",
        intro="Deep work needs protected time. Every evening the guard reads tomorrow's events, "
        "finds gaps of at least 90 minutes within your working hours and books them as busy "
        "focus blocks. Meetings you accept later still win; the guard just makes the gaps "
        "visible.",
        highlights=[
            "Working hours and minimum gap are settings",
            "Skips days marked out of office",
            "Events are tagged so they are easy to remove",
        ],
        requirements="n8n 1.70 or later; Google Calendar.",
        tags=["calendar", "focus", "productivity", "free"],
        setup_minutes=10,
        flow=Flow(
            S("schedule_daily", "Every evening 18:00", rule={"interval": [{"triggerAtHour": 18}]}),
            [
                S("gcal", "Read tomorrow's events"),
                S("code", "Find gaps of 90 minutes"),
                S("gcal", "Book focus blocks", operation="create"),
            ],
        ),
        licence=(True, True, True),
    ),
    DemoProduct(
        title="Weekly Review Notion Template",
        vendor="vera",
        category="documents-notes",
        type=ASSET,
        price=FREE,
        summary="A Notion template for a 30-minute weekly review: inbox zero, project "
        "check-ins, next week's priorities and a short reflection.",
        intro="A weekly review keeps a task system trustworthy. This template walks you "
        "through the same steps every Friday: clear the inboxes, check each active project, "
        "choose three priorities for next week and write two sentences about what went well.",
        highlights=[
            "Guided checklist with time boxes",
            "Linked project database",
            "A simple archive of past reviews",
        ],
        requirements="A Notion workspace.",
        tags=["notion", "weekly review", "template", "free"],
        setup_minutes=5,
        usage=[
            "Duplicate the template into your workspace.",
            "Link your existing projects database, or use the one included.",
            "Add a recurring Friday reminder to open it.",
        ],
        licence=(False, False, True),
    ),
    DemoProduct(
        title="Starred Email to Task",
        vendor="flowforge",
        category="productivity",
        type=WORKFLOW,
        price=one_time(900),
        summary="Star an email in Gmail and it becomes a Google Task with the subject as the "
        "title, a link back to the email and a due date if one is mentioned.",
        intro="Your inbox is not a to-do list, but starring is a habit you already have. The "
        "workflow watches for starred emails, creates a task with a link to the thread and, "
        "when the email mentions a date like *by Friday*, sets it as the due date.",
        highlights=[
            "Uses the star you already click",
            "Link back to the original email",
            "Simple date detection for English phrases",
        ],
        requirements="n8n 1.70 or later; Gmail; Google Tasks.",
        tags=["gmail", "tasks", "productivity", "inbox"],
        setup_minutes=10,
        flow=Flow(
            S("gmail_trigger", "Email starred", filters={"labelIds": ["STARRED"]}),
            [S("set", "Title, link and due date"), S("gtasks", "Create the task")],
        ),
    ),
    # AI Assistants
    DemoProduct(
        title="Research Assistant with Sources",
        vendor="lighthouse",
        category="research-agents",
        type=AGENT,
        price=monthly(2400, 24000),
        summary="A chat research agent that searches the web and Wikipedia, reads the pages and "
        "answers with numbered citations you can check.",
        intro="Answers without sources are opinions. The research assistant plans a few "
        "searches, reads the most relevant pages and Wikipedia articles, and writes an answer "
        "where every claim carries a numbered citation. It keeps the conversation in memory so "
        "you can ask it to dig deeper into one point.",
        highlights=[
            "Numbered citations with links",
            "Web search plus Wikipedia",
            "Says when sources disagree",
            "Conversation memory for follow-ups",
        ],
        requirements="n8n 1.82 or later; an Anthropic API key; a SerpApi key.",
        tags=["research", "citations", "agent", "search"],
        complexity=INTERMEDIATE,
        setup_minutes=15,
        flow=Flow(
            S("chat_trigger", "Research question"),
            [S("agent", "Research with sources")],
            ai=[S("anthropic"), S("memory"), S("tool_serp", "Web search"), S("tool_wikipedia")],
        ),
        featured=True,
    ),
    DemoProduct(
        title="Long-form Draft Writer",
        vendor="lighthouse",
        category="writing-assistants",
        type=AGENT,
        price=one_time(3400),
        summary="Fill in a short form with topic, audience and outline; get a structured first "
        "draft in Google Docs, written section by section.",
        intro="A first draft is easier to fix than a blank page. The writer takes a topic, an "
        "audience and a rough outline from a form, writes each section in turn with the "
        "outline in view, and puts the result into a Google Doc with comments where it "
        "made assumptions you should check.",
        highlights=[
            "Section-by-section drafting for long pieces",
            "Comments mark assumptions and missing facts",
            "Follows your outline instead of inventing one",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; Google Docs.",
        tags=["writing", "drafts", "google docs", "content"],
        complexity=BEGINNER,
        setup_minutes=10,
        flow=Flow(
            S("form_trigger", "Topic and outline"),
            [S("agent", "Draft each section"), S("gdocs", "Create the draft")],
            ai=[S("openai"), S("memory")],
        ),
    ),
    DemoProduct(
        title="Docs Q&A Agent",
        vendor="pipeline",
        category="knowledge-bases",
        type=AGENT,
        price=one_time(5900),
        summary="A question-answering agent over your product documentation that searches "
        "your docs site, answers with links and logs unanswered questions.",
        intro="Documentation is only useful if people find the right page. The agent searches "
        "your docs through their search endpoint, reads the best pages and answers with links. "
        "Every question it could not answer is logged to a sheet, which makes a fine list of "
        "pages your docs are missing.",
        highlights=[
            "Answers with links to the pages used",
            "Logs unanswered questions for your docs team",
            "Works with any docs site that has a search endpoint",
        ],
        requirements="n8n 1.82 or later; an OpenAI API key; a docs search endpoint; Google Sheets.",
        tags=["documentation", "q&a", "knowledge base", "agent"],
        complexity=ADVANCED,
        setup_minutes=45,
        flow=Flow(
            S("chat_trigger", "Question about the docs"),
            [
                S("agent", "Answer from the docs"),
                S("if", "Unanswered?"),
                S("sheets", "Log the question"),
            ],
            ai=[S("openai"), S("memory"), S("tool_http", "Search the docs")],
        ),
    ),
    DemoProduct(
        title="Operations Prompt Library",
        vendor="lighthouse",
        category="ai-assistants",
        type=ASSET,
        price=FREE,
        summary="Thirty prompts for operations work: writing SOPs, summarising policies, "
        "comparing vendor quotes and turning notes into checklists.",
        intro="Operations work is full of documents nobody wants to write. This library holds "
        "thirty prompts that turn rough notes into standard operating procedures, compare "
        "quotes in a table, summarise long policies and produce checklists, each with an "
        "example input and the output it produced.",
        highlights=[
            "30 prompts with example inputs and outputs",
            "Organised by task, not by tool",
            "Tips for checking the output before using it",
        ],
        requirements="Any AI chat assistant.",
        tags=["prompts", "operations", "sop", "free"],
        setup_minutes=5,
        usage=[
            "Open the library and pick a prompt by task.",
            "Replace the bracketed parts with your material.",
            "Check the output against the tips before sharing it.",
        ],
        licence=(True, True, True),
    ),
    DemoProduct(
        title="AI Agent Evaluation Checklist",
        vendor="quietloop",
        category="ai-assistants",
        type=ASSET,
        price=one_time(1200),
        summary="A checklist and test-case sheet for evaluating an AI agent before it talks to "
        "customers: accuracy, refusals, hand-over, tone and cost.",
        intro="Agents fail in predictable ways: confident wrong answers, refusing easy "
        "questions, never handing over, running up costs. The checklist turns those into "
        "tests. The sheet holds fifty starter test cases you adapt to your domain and a "
        "scoring column per release, so you can see whether a prompt change helped.",
        highlights=[
            "50 starter test cases in six groups",
            "Scoring per release to catch regressions",
            "Cost-per-conversation estimate",
        ],
        requirements="Google Sheets or Excel.",
        tags=["evaluation", "testing", "ai agents", "quality"],
        complexity=INTERMEDIATE,
        setup_minutes=30,
        usage=[
            "Copy the sheet and read the checklist tab.",
            "Rewrite the starter test cases for your product.",
            "Score each release of your agent before it goes live.",
        ],
    ),
]

# --- building the demo workflows -------------------------------------------------------------

STICKY_NOTE = "n8n-nodes-base.stickyNote"
# Canvas layout: the main chain left to right, an If's false branch below, AI sub-nodes under
# their root (the editor's default spacing is 224 px; 240 keeps labels apart).
_X_STEP, _AI_ROOT_EXTRA = 240, 140
_Y_MAIN, _Y_BRANCH, _Y_OTHER, _Y_SUB = 300, 200, 420, 560


def _uuid(*parts: str) -> str:
    """Deterministic ids: the same product yields the same workflow (and preview) every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "autopilot.monster/demo/" + "/".join(parts)))


def _node(slug: str, step: Step, x: float, y: float) -> dict[str, Any]:
    kind = KINDS[step.kind]
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
            kind = KINDS[part.kind]
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
        credential = KINDS[step.kind].credential
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


def _figures(product: DemoProduct) -> dict[str, Any]:
    """Varied but stable shop figures, derived from the slug so every run agrees."""
    h = hashlib.sha256(product.slug.encode()).digest()
    free = product.price[0] == PriceType.FREE
    rating_count = (0, 2, 6, 11, 19, 34, 58, 97, 164, 240)[h[0] % 10]
    view_count = 120 + h[1] * 40 + h[2]
    sales = 0 if free else view_count * (1 + h[3] % 6) // 100
    downloads = view_count * (10 + h[3] % 20) // 100 if free else sales
    published_ago = timedelta(days=3 + (h[4] * 256 + h[5]) % 170, hours=h[6] % 24)
    return {
        "rating_count": rating_count,
        "rating_avg": round(3.6 + (h[7] % 14) / 10, 1) if rating_count else 0.0,
        "view_count": view_count,
        "sales_count": sales,
        "popularity": view_count + 20 * downloads + 10 * rating_count,
        "published_ago": published_ago,
    }


# --- seeding ---------------------------------------------------------------------------------


def seed_catalog(reviewer: User | None) -> Iterator[str]:
    """Create the demo categories, stores and products that are missing; commit once.

    ``reviewer`` is recorded as the admin who approved the new stores.
    """
    categories, made = _ensure_categories()
    yield f"categories: {made} created, {len(categories) - made} existing"
    vendors, made = _ensure_vendors(reviewer)
    yield f"vendor stores: {made} created, {len(vendors) - made} existing"
    made, previews = _ensure_products(categories, vendors)
    yield (
        f"products: {made} created, {len(PRODUCTS) - made} existing"
        + (f" ({previews} previews rendered)" if made else "")
    )
    db.session.commit()


def _ensure_categories() -> tuple[dict[str, Category], int]:
    found = {c.slug: c for c in db.session.scalars(select(Category))}
    made = 0
    for position, (name, slug, description, children) in enumerate(CATEGORY_TREE):
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


def _ensure_vendors(reviewer: User | None) -> tuple[dict[str, VendorProfile], int]:
    slugs = [spec.slug for spec in VENDORS]
    found = db.session.scalars(select(VendorProfile).where(VendorProfile.slug.in_(slugs)))
    by_slug = {profile.slug: profile for profile in found}
    stores = {spec.key: by_slug[spec.slug] for spec in VENDORS if spec.slug in by_slug}
    now = utcnow()
    locked_hash = ""
    made = 0
    for spec in VENDORS:
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
    categories: dict[str, Category], vendors: dict[str, VendorProfile]
) -> tuple[int, int]:
    slugs = [p.slug for p in PRODUCTS]
    existing = set(db.session.scalars(select(Product.slug).where(Product.slug.in_(slugs))))
    missing = [p for p in PRODUCTS if p.slug not in existing]
    if not missing:
        return 0, 0
    tags = {t.slug: t for t in tags_named([name for p in missing for name in p.tags])}
    now = utcnow()
    products: list[Product] = []
    previews = 0
    for spec in missing:
        figures = _figures(spec)
        published = now - figures.pop("published_ago")
        facts = workflow_facts(spec) if spec.flow is not None else {}
        previews += bool(facts.get("preview_key"))
        price_type, price, monthly_price, yearly_price = spec.price
        commercial, redistribution, modification = spec.licence
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
            type=str(spec.type),
            price_type=str(price_type),
            currency="USD",
            price_cents=price,
            monthly_price_cents=monthly_price,
            yearly_price_cents=yearly_price,
            complexity=str(spec.complexity),
            setup_minutes=spec.setup_minutes,
            requirements=spec.requirements,
            licence_commercial=commercial,
            licence_redistribution=redistribution,
            licence_modification=modification,
            support_policy=VENDOR_BY_KEY[spec.vendor].support_policy,
            refund_policy=FREE_REFUND_POLICY
            if price_type == PriceType.FREE
            else VENDOR_BY_KEY[spec.vendor].refund_policy,
            is_featured=spec.featured,
            published_at=published,
            created_at=published - timedelta(days=2),
            updated_at=published,
            tags=[tags[slugify(name, 40)] for name in spec.tags],
            **facts,
            **figures,
        )
        products.append(product)
    db.session.add_all(products)
    db.session.flush()
    db.session.add_all(
        ProductTransition(
            product_id=product.id,
            from_status="",
            to_status=ProductStatus.APPROVED.value,
            actor_id=None,
            note=NOTE,
            created_at=product.published_at,
        )
        for product in products
    )
    return len(products), previews
