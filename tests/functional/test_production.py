"""Production serving: gunicorn as `make serve` runs it, and hosts the site does not answer to."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.catalog.factories import create_category, create_product, slug_of
from tests.support.services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn with the production settings, as `make serve` starts it (one worker)."""
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "APP_ENV": "production",
        "SECRET_KEY": "p" * 64,
        "DATABASE_URL": f"sqlite:///{tmp}/prod.db",
        "BASE_URL": "https://autopilot.example",
        "TRUSTED_HOSTS": "autopilot.example",
        "STRIPE_SECRET_KEY": "sk_test_production_serving",
        "STRIPE_WEBHOOK_SECRET": "whsec_production_serving",
        "STORAGE_DIR": str(tmp / "storage"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


def _get(port: int, path: str, host: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    response.body = response.read().decode()
    connection.close()
    return response


def test_production_server_header_names_no_versions(gunicorn):
    response = _get(gunicorn, "/robots.txt", "autopilot.example")
    assert response.status == 200
    servers = response.headers.get_all("Server")
    # gunicorn sends its name only; neither Werkzeug, Python nor a version number shows.
    assert servers == ["gunicorn"]


def test_production_refuses_a_forged_host(gunicorn):
    forged = _get(gunicorn, "/robots.txt", "evil.example")
    assert forged.status == 400 and "evil.example" not in forged.body
    trusted = _get(gunicorn, "/robots.txt", "autopilot.example")
    assert "Sitemap: http://autopilot.example/sitemap.xml" in trusted.body


def test_public_absolute_urls_never_take_a_forged_host(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["localhost"])
    category_id = create_category(app, "Finance")
    product = slug_of(app, create_product(app, make_user, "Ledger bot", category_slug="finance"))
    assert category_id
    pages = ["/", f"/products/{product}", "/categories/finance", "/sitemap.xml", "/robots.txt"]
    for path in pages:
        forged = client.get(path, headers={"Host": "evil.example"})
        assert forged.status_code == 400, path
        assert "evil.example" not in forged.get_data(as_text=True)
        trusted = client.get(path).get_data(as_text=True)
        assert "http://localhost/" in trusted, path
    page = client.get(f"/products/{product}").get_data(as_text=True)
    assert f'<link rel="canonical" href="http://localhost/products/{product}">' in page
    assert f'<meta property="og:url" content="http://localhost/products/{product}">' in page
