"""A new user in a real browser: sign up, verify through the received mail, log in, log out."""

import re

import pytest

from tests.support.services import body_text

pytestmark = pytest.mark.browser


def test_signup_verify_login_logout(live_server, page, mailbox, run_jobs):
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("First name").fill("Bea")
    page.get_by_label("Last name").fill("Browser")
    page.get_by_label("Email").fill("bea@example.com")
    page.get_by_label("Password", exact=True).fill("a-browser-secret-1")
    page.get_by_label("Repeat password").fill("a-browser-secret-2")
    page.get_by_role("button", name="Sign up").click()
    # htmx swaps the form with its 422 errors in place
    page.get_by_text("Passwords differ.").wait_for()
    assert page.url.endswith("/signup")
    # passwords are never sent back to the browser, so both are typed again
    page.get_by_label("Password", exact=True).fill("a-browser-secret-1")
    page.get_by_label("Repeat password").fill("a-browser-secret-1")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign up").click()
    response = posted.value
    assert response.status == 200 and response.headers.get("hx-redirect") == "/login", (
        response.status,
        re.findall(r'class="(?:field-error|form-errors)"[^>]*>(.*?)<', response.text()),
        response.request.post_data,
    )
    page.wait_for_url(f"{live_server}/login")
    assert "we sent a link to bea@example.com" in page.content()

    assert run_jobs() == 1
    [message] = mailbox.to("bea@example.com")
    path = re.search(r"http://localhost(/verify/\S+)", body_text(message)).group(1)
    page.goto(live_server + path)
    page.get_by_text("Your email is confirmed.").wait_for()

    page.get_by_label("Email").fill("bea@example.com")
    page.get_by_label("Password").fill("a-browser-secret-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Welcome back, Bea Browser.").wait_for()
    assert "Confirm your email address to buy" not in page.content()

    page.locator("summary", has_text="Bea Browser").click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out.").wait_for()
    page.goto(f"{live_server}/account")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert page.js_errors == []
