"""Product versions: upload, scan (clamd, zip inspection, the n8n engine), publish, roll back,
yank, acknowledge findings, rescan; and the sweep of stuck scans and orphan files.

Functions take the acting user explicitly and never read the request. Views own the commit,
except the scan (a job's service): it commits "scanning" before the long work, so a worker
killed mid-scan leaves a row the sweep finds, and commits the verdict at the end.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import and_, bindparam, func, or_, select, update

from app.accounts.models import User
from app.accounts.permissions import Permission, has_permission
from app.assets.archive import ZipEntry, inspect_zip
from app.assets.clamd import Clamd, ClamdError, ScanResult
from app.assets.intake import ALL_KINDS, FileKind, human_bytes, receive_upload
from app.assets.models import NO_SCANNER, ProductVersion, VersionStatus
from app.catalog.content import render_markdown
from app.catalog.models import Product
from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.licensing.services import holder_ids
from app.n8n import (
    DEFAULT_LIMITS,
    RenderOptions,
    WorkflowError,
    analyse,
    parse_workflow,
    redact_document,
    render_svg,
    scan_document,
    validate,
)
from app.n8n.catalog import is_community
from app.n8n.services import dump_json
from app.notifications.services import Email, notify, notify_later, site_path
from app.outbox.services import record_event
from app.queue import enqueue
from app.storage import (
    CHUNK_SIZE,
    MAX_DOWNLOAD_SECONDS,
    Storage,
    StoredFileMissing,
    get_storage,
    hashed_key,
)
from app.timeutil import utcnow

log = logging.getLogger(__name__)

FILES_PREFIX = "versions/files"
REDACTED_PREFIX = "versions/redacted"
PREVIEWS_PREFIX = "versions/previews"
WATERMARK = "Autopilot Monster · preview"
# After this many attempts cut short by the scanner (unreachable, hung), the version is an
# error: it is never clean without a verdict.
MAX_SCAN_ATTEMPTS = 8
# A bundle's entries go to clamd this many at a time (each its own INSTREAM connection; clamd
# scans with MaxThreads threads, 10 by default). One stream per entry keeps every entry
# inside clamd's own per-file limits, which a whole-zip stream would skip silently.
SCAN_CONCURRENCY = 4
# A version waiting for its scanner is tried again by the sweep this often.
WAITING_RETRY_SECONDS = 60
_LABEL = re.compile(r"^v?(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?(?:-([0-9A-Za-z.-]{1,20}))?$")


class VersionError(DomainError):
    status = 422
    message = "That version could not be saved."


class QuotaExceeded(DomainError):
    status = 413
    message = "Your store has used its storage allowance."


class VersionNotUsable(Conflict):
    message = "Only a clean version that is not withdrawn can be made current."


class ScannerUnavailable(RuntimeError):
    """clamd could not be reached or did not answer: the job fails and is retried."""


# --- labels and access ----------------------------------------------------------------------


def label_key(label: str) -> tuple[int, int, int, int, str]:
    """Sort key of a semver-like label ("1", "1.2", "v1.2.3", "2.0.0-beta.1"); raises
    VersionError. A pre-release sorts before its release."""
    match = _LABEL.match(label.strip())
    if match is None:
        raise VersionError(
            "A version label looks like 1.0, 1.2.3 or 2.0.0-beta.1 (numbers separated by dots)."
        )
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor or 0), int(patch or 0), 0 if pre else 1, pre or "")


def _normal_label(label: str) -> str:
    return label.strip().removeprefix("v")


def is_owner(actor: Any, product: Product) -> bool:
    """The vendor whose store holds ``product``."""
    return product.vendor.user_id == getattr(actor, "id", None)


def is_manager(actor: Any, product: Product) -> bool:
    """The owning vendor, or an admin."""
    if not getattr(actor, "is_authenticated", False):
        return False
    return product.vendor.user_id == actor.id or has_permission(actor, Permission.MODERATE)


def get_managed_product(actor: Any, product_id: int) -> Product:
    """``product_id`` if ``actor`` owns it or is an admin; NotFound otherwise."""
    product = db.session.get(Product, product_id)
    if product is None or not is_manager(actor, product):
        raise NotFound()
    return product


def get_version(actor: Any, product_id: int, version_id: int) -> ProductVersion:
    """A version of a product ``actor`` manages; NotFound for anything else."""
    product = get_managed_product(actor, product_id)
    version = db.session.get(ProductVersion, version_id)
    if version is None or version.product_id != product.id:
        raise NotFound()
    return version


# Built once (every product page reads it): building a select costs more than running this one.
_VERSIONS_OF = (
    select(ProductVersion)
    .where(ProductVersion.product_id == bindparam("product_id"))
    .order_by(ProductVersion.created_at.desc(), ProductVersion.id.desc())
)


def versions_of(product: Product) -> list[ProductVersion]:
    """Newest first."""
    return list(db.session.scalars(_VERSIONS_OF, {"product_id": product.id}))


def current_version(product: Product) -> ProductVersion | None:
    """The product's current version if it is clean and not withdrawn (what shoppers see)."""
    if product.current_version_id is None:
        return None
    version = db.session.get(ProductVersion, product.current_version_id)
    if version is None or not version.is_clean or version.is_yanked:
        return None
    return version


def public_history(product: Product) -> list[ProductVersion]:
    """Published clean versions not withdrawn, newest first: the changelog shoppers read."""
    return [
        v
        for v in versions_of(product)
        if v.is_clean and v.published_at is not None and not v.is_yanked
    ]


def storage_used(vendor_id: int) -> int:
    """Bytes of the store's uploaded files (each content counted once)."""
    sizes = select(ProductVersion.sha256, func.max(ProductVersion.size).label("size"))
    sizes = (
        sizes.join(Product, Product.id == ProductVersion.product_id)
        .where(Product.vendor_id == vendor_id)
        .group_by(ProductVersion.sha256)
        .subquery()
    )
    return int(db.session.scalar(select(func.coalesce(func.sum(sizes.c.size), 0))) or 0)


# --- upload ---------------------------------------------------------------------------------


def upload_version(
    actor: User,
    product: Product,
    stream: BinaryIO,
    filename: str,
    label: str,
    changelog: str = "",
    *,
    publish_when_clean: bool = True,
    storage: Storage | None = None,
) -> ProductVersion:
    """Take a new version of ``product`` from ``stream``: streamed to a temporary file under
    MAX_PRODUCT_FILE_MB, typed by content, stored under its content hash, and added
    quarantined with a ``version.uploaded`` event (the scan job) in the caller's transaction.

    Only the owning vendor uploads. Raises NotFound, VersionError (label), QuotaExceeded,
    the intake's UploadTooLarge, UnsupportedFileType and UploadRejected, and StorageError
    (nothing is saved then).
    """
    if not is_owner(actor, product):
        raise NotFound()
    config = current_app.config["APP_CONFIG"]
    label = _normal_label(label)
    key = label_key(label)
    existing = [v.label for v in versions_of(product)]
    if label in existing:
        raise VersionError(f"Version {label} exists already; give the new file a new label.")
    newest = max(existing, key=label_key, default=None)
    if newest is not None and key <= label_key(newest):
        raise VersionError(f"Version labels increase: the newest is {newest}.")
    changelog = (changelog or "").strip()[:20_000]
    storage = storage or get_storage()
    with receive_upload(
        stream, filename, config.max_product_file_bytes, allowed=ALL_KINDS
    ) as upload:
        used = storage_used(product.vendor_id)
        is_new_content = not db.session.scalar(
            select(func.count())
            .select_from(ProductVersion)
            .join(Product, Product.id == ProductVersion.product_id)
            .where(Product.vendor_id == product.vendor_id, ProductVersion.sha256 == upload.sha256)
        )
        quota = config.vendor_storage_quota_bytes
        if is_new_content and used + upload.size > quota:
            raise QuotaExceeded(
                f"Your store has {human_bytes(max(0, quota - used))} of its "
                f"{human_bytes(quota)} left; this file is {human_bytes(upload.size)}. Withdraw "
                "and delete old versions or ask us for more room."
            )
        storage_key = hashed_key(FILES_PREFIX, upload.sha256)
        if not storage.exists(storage_key):
            storage.put_path(storage_key, upload.path, upload.content_type)
        version = ProductVersion(
            product_id=product.id,
            label=label,
            changelog_md=changelog,
            changelog_html=render_markdown(changelog),
            uploader_id=actor.id,
            kind=upload.kind.value,
            filename=upload.filename,
            size=upload.size,
            sha256=upload.sha256,
            storage_key=storage_key,
            status=VersionStatus.QUARANTINED.value,
            reasons=[],
            findings=[],
            analysis={},
            publish_when_clean=publish_when_clean,
        )
        db.session.add(version)
        db.session.flush()
    record_event("version.uploaded", version_id=version.id, product_id=product.id)
    return version


# --- scanning -------------------------------------------------------------------------------


@dataclass
class _Verdict:
    status: VersionStatus | None = None  # None: nothing wrong found (yet)
    reasons: list[str] = field(default_factory=list)
    transient: str | None = None  # the scanner's own failure: retry later
    workflows: list[tuple[str, bytes]] = field(default_factory=list)  # (entry or "", JSON)

    def fail(self, status: VersionStatus, reason: str) -> None:
        # Infected outranks rejected outranks error.
        rank = [VersionStatus.ERROR, VersionStatus.REJECTED, VersionStatus.INFECTED]
        if self.status is None or rank.index(status) > rank.index(self.status):
            self.status = status
        self.reasons.append(reason)


def scanner_from_config() -> Clamd | None:
    return Clamd.from_config(current_app.config["APP_CONFIG"])


def _claim(version_id: int) -> int | None:
    """Mark the version scanning, if no other scan holds it; the attempt number, or None."""
    config = current_app.config["APP_CONFIG"]
    now = utcnow()
    stale = now - timedelta(seconds=config.scan_timeout_seconds)
    result = db.session.execute(
        update(ProductVersion)
        .where(
            ProductVersion.id == version_id,
            or_(
                ProductVersion.status.in_([VersionStatus.QUARANTINED, VersionStatus.WAITING]),
                and_(
                    ProductVersion.status == VersionStatus.SCANNING,
                    or_(
                        ProductVersion.scan_started_at.is_(None),
                        ProductVersion.scan_started_at < stale,
                    ),
                ),
            ),
        )
        .values(
            status=VersionStatus.SCANNING.value,
            scan_started_at=now,
            attempts=ProductVersion.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    version = db.session.get(ProductVersion, version_id, populate_existing=True)
    return version.attempts if version is not None else None


def _still_mine(version_id: int, attempt: int) -> ProductVersion | None:
    """The version, locked, if the scan numbered ``attempt`` still holds it."""
    version = db.session.get(
        ProductVersion, version_id, with_for_update=True, populate_existing=True
    )
    if version is None or version.status != VersionStatus.SCANNING or version.attempts != attempt:
        db.session.rollback()
        return None
    return version


def _wait_for_scanner(version_id: int, attempt: int, why: str, escalate: bool = True) -> None:
    """Back to waiting (the sweep and the job's retries try again), or an error once the
    scanner has failed MAX_SCAN_ATTEMPTS times."""
    version = _still_mine(version_id, attempt)
    if version is None:
        return
    if escalate and attempt >= MAX_SCAN_ATTEMPTS:
        _finish(version, _Verdict(VersionStatus.ERROR, [f"The virus scan failed: {why}."]), "")
    else:
        version.status = VersionStatus.WAITING.value
        version.reasons = [f"Waiting for the virus scanner ({why}); it is tried again soon."]
    db.session.commit()


def scan_version(
    version_id: int, *, scanner: Clamd | None = None, storage: Storage | None = None
) -> str | None:
    """Scan version ``version_id`` and commit its verdict; return its status (None: no such
    version). Safe to run twice or at once: a scan claims the version first, and a finished
    version is left as it is.

    Without a scanner configured the file goes through every other check and is marked
    "not virus-scanned (no scanner configured)"; in production it waits instead and is never
    clean. Raises ScannerUnavailable (clamd unreachable or hung: the job is retried; the
    version shows "waiting for scanner") and StorageError.
    """
    config = current_app.config["APP_CONFIG"]
    scanner = scanner if scanner is not None else scanner_from_config()
    attempt = _claim(version_id)
    if attempt is None:
        version = db.session.get(ProductVersion, version_id)
        return version.status if version is not None else None
    version = db.session.get(ProductVersion, version_id)
    assert version is not None
    if scanner is None and config.is_production:
        _wait_for_scanner(version_id, attempt, "no virus scanner is configured", escalate=False)
        return VersionStatus.WAITING.value
    if scanner is not None:
        try:
            scanner_label = "clamd " + scanner.version().split("/", 1)[0]
        except ClamdError as exc:
            _wait_for_scanner(version_id, attempt, str(exc))
            raise ScannerUnavailable(str(exc)) from exc
    else:
        scanner_label = NO_SCANNER
    verdict = _Verdict()
    storage = storage or get_storage()
    try:
        with _local_copy(storage, version) as path:
            if version.kind == FileKind.ZIP:
                _scan_zip(path, scanner, verdict)
            else:
                _scan_file(path, scanner, verdict)
                if version.kind == FileKind.WORKFLOW and verdict.status is None:
                    verdict.workflows.append(("", path.read_bytes()))
    except StoredFileMissing:
        verdict.fail(VersionStatus.ERROR, "The stored file is missing; upload it again.")
    except _Tampered:
        verdict.fail(VersionStatus.ERROR, "The stored file does not match what was uploaded.")
    if verdict.transient:
        _wait_for_scanner(version_id, attempt, verdict.transient)
        raise ScannerUnavailable(verdict.transient)
    facts: dict[str, Any] = {}
    if verdict.status is None and verdict.workflows:
        facts = _analyse_workflows(verdict, storage)
    version = _still_mine(version_id, attempt)
    if version is None:
        return None
    _finish(version, verdict, scanner_label, facts)
    db.session.commit()
    return version.status


class _Tampered(Exception):
    pass


@contextmanager
def _local_copy(storage: Storage, version: ProductVersion) -> Iterator[Path]:
    """The stored file in a temporary file (a zip needs to seek), its hash checked."""
    with tempfile.NamedTemporaryFile(prefix="scan-") as spool:
        digest = hashlib.sha256()
        with storage.open(version.storage_key) as source:
            while chunk := source.read(CHUNK_SIZE):
                digest.update(chunk)
                spool.write(chunk)
        spool.flush()
        if digest.hexdigest() != version.sha256:
            raise _Tampered()
        yield Path(spool.name)


def _judge(result: ScanResult, where: str, verdict: _Verdict) -> None:
    if result.is_clean:
        return
    if result.is_infected:
        verdict.fail(VersionStatus.INFECTED, f"{where} holds malware ({result.signature}).")
    elif result.transient:
        verdict.transient = result.reason or "the scanner did not answer"
    else:
        verdict.fail(VersionStatus.ERROR, f"The virus scan of {where} failed: {result.reason}.")


def _scan_file(path: Path, scanner: Clamd | None, verdict: _Verdict) -> None:
    if scanner is not None:
        _judge(scanner.scan_path(path), "the file", verdict)


def _entry_chunks(path: Path, name: str, kept: list[bytes] | None) -> Iterator[bytes]:
    """One entry's content in chunks, from an archive of its own (threads share nothing);
    kept too when ``kept`` is a list. zipfile checks the CRC at the end."""
    with zipfile.ZipFile(path) as archive, archive.open(name) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            if kept is not None:
                kept.append(chunk)
            yield chunk


def _scan_entry(path: Path, entry: ZipEntry, scanner: Clamd | None) -> tuple[ScanResult, bytes]:
    """(clamd's verdict on one entry, its content if it may be an n8n workflow, else b"")."""
    is_json = entry.name.lower().endswith(".json")
    kept: list[bytes] | None = [] if is_json and entry.size <= DEFAULT_LIMITS.max_bytes else None
    chunks = _entry_chunks(path, entry.name, kept)
    if scanner is not None:
        result = scanner.scan_chunks(chunks)
    else:
        for _ in chunks:  # read through: a damaged entry is found without a scanner too
            pass
        result = ScanResult("clean")
    return result, b"".join(kept or [])


def _scan_zip(path: Path, scanner: Clamd | None, verdict: _Verdict) -> None:
    """Inspect the bundle's directory first (nothing unpacked), then stream each entry to
    clamd, SCAN_CONCURRENCY at a time; keep the n8n workflows it holds for the analysis."""
    report = inspect_zip(path)
    if not report.is_safe:
        for problem in report.problems:
            verdict.fail(VersionStatus.REJECTED, f"The zip bundle: {problem.message}.")
        return
    try:
        with ThreadPoolExecutor(max_workers=SCAN_CONCURRENCY) as pool:
            results = list(
                pool.map(lambda entry: (entry, *_scan_entry(path, entry, scanner)), report.files)
            )
    except (zipfile.BadZipFile, EOFError) as exc:
        verdict.fail(VersionStatus.REJECTED, f"The zip bundle is damaged ({exc}).")
        return
    for entry, result, content in results:
        _judge(result, f"{entry.name!r}", verdict)
        if content:
            verdict.workflows.append((entry.name, content))
    if verdict.status is not None or verdict.transient:
        verdict.workflows.clear()


def _location(entry: str, pointer: str, document: Any) -> str:
    where = f"{entry}: " if entry else ""
    parts = pointer.split("/")
    if len(parts) > 2 and parts[1] == "nodes" and parts[2].isdigit():
        nodes = document.get("nodes") if isinstance(document, dict) else None
        index = int(parts[2])
        if isinstance(nodes, list) and index < len(nodes) and isinstance(nodes[index], dict):
            name = nodes[index].get("name")
            if isinstance(name, str):
                return f"{where}node {name[:80]!r} ({pointer})"
    if len(parts) > 1 and parts[1] == "pinData":
        return f"{where}pinned run data ({pointer})"
    return f"{where}{pointer or 'the document'}"


def _analyse_workflows(verdict: _Verdict, storage: Storage) -> dict[str, Any]:
    """Parse, validate, analyse and scan each workflow; store the redacted copy and the
    preview of the first. JSON files of a bundle that are not workflows are left alone; a
    workflow file that does not parse rejects the version."""
    facts: dict[str, Any] = {
        "workflows": [],
        "node_types": [],
        "community_nodes": [],
        "credentials": [],
        "triggers": [],
        "services": [],
        "n8n_version": "",
        "findings": [],
        "preview_key": None,
        "redacted_key": None,
    }
    for entry, data in verdict.workflows:
        try:
            workflow = parse_workflow(data)
        except WorkflowError as exc:
            if entry:
                continue
            verdict.fail(VersionStatus.REJECTED, f"The workflow cannot be read: {exc}.")
            return {}
        secrets = scan_document(workflow.document)
        analysis = analyse(workflow)
        warnings = [finding.to_dict() for finding in validate(workflow)]
        for secret in secrets:
            facts["findings"].append(
                {
                    "type": "secret",
                    "kind": secret.kind,
                    "where": _location(entry, secret.pointer, workflow.document),
                }
            )
        for flag in analysis.risk_flags:
            facts["findings"].append(
                {
                    "type": "risk",
                    "kind": flag.get("code", "risk"),
                    "where": (f"{entry}: " if entry else "") + f"node {flag.get('node', '')!r}",
                    "message": flag.get("message", ""),
                }
            )
        types = sorted({row["type"] for row in analysis.node_types})
        facts["workflows"].append(
            {
                "entry": entry,
                "name": analysis.name,
                "nodes": analysis.node_count,
                "connections": analysis.connection_count,
                "complexity": analysis.complexity,
                "ai": analysis.ai,
                "warnings": warnings[:50],
            }
        )
        facts["node_types"] = sorted({*facts["node_types"], *types})
        facts["community_nodes"] = sorted(
            {*facts["community_nodes"], *(t for t in types if is_community(t))}
        )
        facts["credentials"] = sorted({*facts["credentials"], *analysis.credentials})
        facts["services"] = sorted({*facts["services"], *analysis.services})
        facts["triggers"] += [
            {"type": t.get("type"), "kind": t.get("kind"), "name": t.get("name")}
            for t in analysis.triggers
        ]
        meta = workflow.document.get("meta") if isinstance(workflow.document, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("n8nVersion"), str):
            facts["n8n_version"] = facts["n8n_version"] or meta["n8nVersion"][:20]
        if facts["preview_key"] is None:
            redacted = redact_document(workflow.document, secrets)
            redacted_bytes = (dump_json(redacted, indent=2) + "\n").encode("utf-8")
            redacted_key = hashed_key(
                REDACTED_PREFIX, hashlib.sha256(redacted_bytes).hexdigest(), ".json"
            )
            svg = render_svg(parse_workflow(redacted_bytes), RenderOptions(watermark=WATERMARK))
            svg_bytes = svg.encode("utf-8")
            preview_key = hashed_key(PREVIEWS_PREFIX, hashlib.sha256(svg_bytes).hexdigest(), ".svg")
            if not storage.exists(redacted_key):
                storage.put(redacted_key, redacted_bytes, "application/json")
            if not storage.exists(preview_key):
                storage.put(preview_key, svg_bytes, "image/svg+xml")
            facts["preview_key"], facts["redacted_key"] = preview_key, redacted_key
    return facts


def _finish(
    version: ProductVersion,
    verdict: _Verdict,
    scanner_label: str,
    facts: dict[str, Any] | None = None,
) -> None:
    facts = dict(facts or {})
    version.status = (verdict.status or VersionStatus.CLEAN).value
    version.reasons = verdict.reasons[:50]
    if scanner_label:
        version.scanner = scanner_label
    version.scanned_at = utcnow()
    version.findings = facts.pop("findings", [])
    version.preview_key = facts.pop("preview_key", None)
    version.redacted_key = facts.pop("redacted_key", None)
    version.analysis = facts
    if version.is_clean:
        if scanner_label == NO_SCANNER:
            version.reasons = ["The file was not virus-scanned: no scanner is configured."]
        # Only a first verdict publishes: a rescan leaves the vendor's choice of current.
        if version.publish_when_clean and version.yanked_at is None and not version.published_at:
            _make_current(version)
    else:
        version.preview_key = version.redacted_key = None
    record_event("version.scanned", version_id=version.id, product_id=version.product_id)


def _make_current(version: ProductVersion) -> None:
    """``version`` becomes the product's current version; its facts fill the listing. A
    first publication newer than every version published before is announced to the
    product's owners (``version.released``); a rollback or a republication is not."""
    product = db.session.get(Product, version.product_id)
    assert product is not None
    if version.published_at is None:
        if _is_newest_release(version):
            record_event("version.released", product_id=product.id, version_id=version.id)
        version.published_at = utcnow()
    product.current_version_id = version.id
    facts = version.analysis or {}
    before = _indexed_facts(product)
    if "workflows" in facts:
        product.node_types = list(facts.get("node_types") or [])
        product.credentials_required = list(facts.get("credentials") or [])
        product.services = list(facts.get("services") or [])
        if facts.get("n8n_version"):
            product.n8n_version = facts["n8n_version"]
    if _indexed_facts(product) != before:  # the search index holds these facts
        record_event("product.version_changed", product_id=product.id, version_id=version.id)


def _is_newest_release(version: ProductVersion) -> bool:
    published = db.session.scalars(
        select(ProductVersion.label).where(
            ProductVersion.product_id == version.product_id,
            ProductVersion.id != version.id,
            ProductVersion.published_at.is_not(None),
        )
    )
    newest = max(published, key=label_key, default=None)
    return newest is None or label_key(version.label) > label_key(newest)


def _indexed_facts(product: Product) -> tuple[Any, ...]:
    return (
        list(product.node_types or []),
        list(product.credentials_required or []),
        list(product.services or []),
        product.n8n_version,
    )


# --- the vendor's decisions -----------------------------------------------------------------


def _usable(version: ProductVersion) -> None:
    if not version.is_clean or version.is_yanked:
        raise VersionNotUsable()


def publish_version(actor: User, version: ProductVersion) -> ProductVersion:
    """Make a clean version the current one (the newest published; or an older one, which is
    a rollback). Raises NotFound, VersionNotUsable."""
    get_managed_product(actor, version.product_id)
    _usable(version)
    _make_current(version)
    return version


rollback_to = publish_version


def yank_version(actor: User, version: ProductVersion, reason: str) -> ProductVersion:
    """Withdraw ``version`` with a reason; if it was current, the newest other usable
    published version takes its place (or none). Raises NotFound, VersionError."""
    product = get_managed_product(actor, version.product_id)
    reason = (reason or "").strip()[:1000]
    if not reason:
        raise VersionError("Say why the version is withdrawn: buyers of it will read this.")
    if version.is_yanked:
        raise VersionError("That version is withdrawn already.")
    version.yanked_at = utcnow()
    version.yank_reason = reason
    if product.current_version_id == version.id:
        others = [
            v
            for v in versions_of(product)
            if v.id != version.id and v.is_clean and not v.is_yanked and v.published_at
        ]
        if others:
            _make_current(max(others, key=lambda v: label_key(v.label)))
        else:
            product.current_version_id = None
    return version


def acknowledge_findings(actor: User, version: ProductVersion) -> ProductVersion:
    """The vendor has read every finding and keeps the file as it is (only the owner)."""
    product = get_managed_product(actor, version.product_id)
    if not is_owner(actor, product):
        raise NotFound()
    if not version.findings:
        raise VersionError("That version has no findings to acknowledge.")
    version.findings_acknowledged_at = utcnow()
    return version


def submission_problems(product: Product) -> list[str]:
    """What the product's files lack before review: a clean current version, its findings
    fixed or acknowledged. Empty when it may be submitted."""
    version = current_version(product)
    if version is None:
        return ["A clean current version of the product's file (upload it and wait for the scan)"]
    if version.needs_acknowledgement:
        return [f"Fixing or acknowledging the findings of version {version.label}"]
    return []


class VersionNotDeletable(Conflict):
    message = "That version cannot be deleted."


def _download_in_flight(storage_key: str) -> bool:
    """A buyer was handed a link to this file within a link's lifetime (it may be in use)."""
    from app.downloads.models import DownloadLog

    since = utcnow() - timedelta(seconds=MAX_DOWNLOAD_SECONDS)
    return (
        db.session.scalar(
            select(DownloadLog.id)
            .where(DownloadLog.storage_key == storage_key, DownloadLog.created_at >= since)
            .limit(1)
        )
        is not None
    )


def delete_version(actor: User, version: ProductVersion, ip: str = "") -> list[str]:
    """The owning vendor deletes an old version to free storage quota: the row goes (its
    bytes stop counting at once), an audit row records it, and a ``version.deleted`` event
    takes its stored files away after commit unless another version still uses them.
    Returns those keys.

    Raises NotFound (not the owner: admins rescan, they do not delete) and
    VersionNotDeletable: the current version, or one whose file a buyer was handed a download
    link to in the last MAX_DOWNLOAD_SECONDS.
    """
    # app.admin imports the catalog, which imports this module: import at call time.
    from app.admin.services import record_audit

    product = get_managed_product(actor, version.product_id)
    if not is_owner(actor, product):
        raise NotFound()
    if product.current_version_id == version.id:
        raise VersionNotDeletable(
            f"Version {version.label} is the current version: make another one current (or "
            "withdraw it) before deleting it."
        )
    if _download_in_flight(version.storage_key):
        raise VersionNotDeletable(
            f"A buyer is downloading version {version.label}'s file right now; try again in "
            "a few minutes."
        )
    keys = [k for k in (version.storage_key, version.preview_key, version.redacted_key) if k]
    record_audit(
        actor,
        "version.deleted",
        "product_version",
        version.id,
        before={
            "product_id": product.id,
            "label": version.label,
            "filename": version.filename,
            "size": version.size,
            "sha256": version.sha256,
            "status": version.status,
        },
        ip=ip,
    )
    db.session.delete(version)
    db.session.flush()
    record_event("version.deleted", product_id=product.id, keys=keys)
    log.info("version %s of product %s deleted by user %s", version.id, product.id, actor.id)
    return keys


def delete_unreferenced_files(keys: list[str], storage: Storage | None = None) -> int:
    """Delete those of ``keys`` no version row names any more (content keys are shared
    between versions with the same bytes, across stores too); return how many went."""
    storage = storage or get_storage()
    columns = (ProductVersion.storage_key, ProductVersion.preview_key, ProductVersion.redacted_key)
    still_used = {
        key
        for row in db.session.execute(select(*columns).where(or_(*(c.in_(keys) for c in columns))))
        for key in row
        if key
    }
    deleted = 0
    for key in keys:
        if key not in still_used:
            storage.delete(key)
            deleted += 1
    return deleted


# --- admin ----------------------------------------------------------------------------------


def rescan_version(actor: User, version: ProductVersion) -> ProductVersion:
    """Scan ``version`` again (after a signature update) once the caller commits; admins
    only. The version is quarantined meanwhile. Raises NotFound."""
    if not has_permission(actor, Permission.MODERATE):
        raise NotFound()
    version.status = VersionStatus.QUARANTINED.value
    version.scan_started_at = None
    version.attempts = 0
    record_event("version.rescan_requested", version_id=version.id, actor_id=actor.id)
    log.info("version %s rescan requested by user %s", version.id, actor.id)
    return version


def rescan_all(actor: User, statuses: tuple[str, ...] = ("clean", "error")) -> int:
    """Rescan every version in ``statuses``; return how many. Raises NotFound."""
    if not has_permission(actor, Permission.MODERATE):
        raise NotFound()
    versions = list(
        db.session.scalars(select(ProductVersion).where(ProductVersion.status.in_(statuses)))
    )
    for version in versions:
        rescan_version(actor, version)
    return len(versions)


# --- mail -----------------------------------------------------------------------------------


def notify_vendor_of_scan(version_id: int, event_id: str | None = None) -> None:
    """Tell the uploader the scan's outcome (scan_finished), in the app and by email as they
    chose (job handler of version.scanned; idempotent per ``event_id``)."""
    version = db.session.get(ProductVersion, version_id)
    if version is None:
        return
    product = db.session.get(Product, version.product_id)
    assert product is not None
    user = version.uploader or product.vendor.user
    subject = f"Version {version.label} of {product.title}: {version.status_label.lower()}"
    is_store_owner = user.id == product.vendor.user_id
    notify(
        user,
        "scan_finished",
        subject,
        "\n".join(version.reasons or []),
        site_path("assets.versions_GET", product_id=product.id),
        event_id=event_id,
        email=Email(
            subject=subject,
            template="version_scanned",
            context={"product": product, "version": version},
            # The store's own address, as for listing decisions (only for its owner).
            to=product.vendor.support_email if is_store_owner else None,
        ),
    )


def announce_new_version(version_id: int) -> int:
    """Ask for every owner of the version's product with a valid licence to be told of it
    (new_version, linking to the library): one notification each, however many licences they
    hold. Returns how many. A version withdrawn or replaced meanwhile is announced to nobody.
    Job handler of version.released: the owners may be many, never counted in a request."""
    version = db.session.get(ProductVersion, version_id)
    if version is None:
        return 0
    product = db.session.get(Product, version.product_id)
    current = current_version(product) if product is not None else None
    if current is None or current.id != version.id:
        return 0
    link = site_path("licensing.library_GET")
    title = f"Version {version.label} of “{product.title}” is out"
    changes = (version.changelog_md or "").strip()
    body = "Download it from your library." + (f"\n\n{changes[:1000]}" if changes else "")
    owners = holder_ids(product.id)
    for user_id in owners:
        notify_later(user_id, "new_version", title, body, link)
    return len(owners)


# --- the sweep ------------------------------------------------------------------------------


@dataclass
class VersionSweep:
    requeued: int = 0
    orphans_deleted: int = 0

    def __bool__(self) -> bool:
        return bool(self.requeued or self.orphans_deleted)

    def __str__(self) -> str:
        return f"requeued {self.requeued}, orphan files deleted {self.orphans_deleted}"


def sweep_versions(storage: Storage | None = None) -> VersionSweep:
    """Requeue scans stuck in "scanning" past SCAN_TIMEOUT_SECONDS (a killed worker) or
    waiting for the scanner; delete stored version files no row references once they are
    older than ORPHAN_FILE_GRACE_SECONDS (the database rolled back after the file was
    stored). Runs in the worker's chores."""
    config = current_app.config["APP_CONFIG"]
    report = VersionSweep()
    now = utcnow()
    stuck_before = now - timedelta(seconds=config.scan_timeout_seconds)
    waiting_before = now - timedelta(
        seconds=min(config.scan_timeout_seconds, WAITING_RETRY_SECONDS)
    )
    rows = db.session.execute(
        select(ProductVersion.id, ProductVersion.attempts).where(
            or_(
                and_(
                    ProductVersion.status == VersionStatus.SCANNING,
                    or_(
                        ProductVersion.scan_started_at.is_(None),
                        ProductVersion.scan_started_at < stuck_before,
                    ),
                ),
                and_(
                    ProductVersion.status == VersionStatus.WAITING,
                    ProductVersion.scan_started_at < waiting_before,
                ),
            )
        )
    ).all()
    db.session.commit()
    for version_id, attempts in rows:
        enqueue(
            "scan",
            "jobs.assets.scan_version",
            version_id,
            job_id=f"scan-{version_id}-{attempts}-{int(time.time())}",
        )
        report.requeued += 1
    storage = storage or get_storage()
    cutoff = time.time() - config.orphan_file_grace_seconds
    referenced: set[str] | None = None
    for prefix in (FILES_PREFIX, REDACTED_PREFIX, PREVIEWS_PREFIX):
        for key, modified in storage.list_keys(prefix):
            if modified > cutoff:
                continue
            if referenced is None:
                referenced = _referenced_keys()
            if key not in referenced:
                storage.delete(key)
                report.orphans_deleted += 1
    db.session.commit()
    return report


def _referenced_keys() -> set[str]:
    keys: set[str] = set()
    for row in db.session.execute(
        select(ProductVersion.storage_key, ProductVersion.preview_key, ProductVersion.redacted_key)
    ):
        keys.update(key for key in row if key)
    return keys
