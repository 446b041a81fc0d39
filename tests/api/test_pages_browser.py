"""The API's pages in Chromium: create and revoke a token, and browse the documentation."""

from __future__ import annotations

import pytest

from api.models import ApiToken

pytestmark = pytest.mark.browser


def test_it_creates_shows_once_and_revokes_a_token_in_the_browser(
    page, live_server, login, owner, org, screenshot_dir
):
    login(page, live_server, "owner")
    page.get_by_role("link", name="API", exact=True).click()
    page.wait_for_url("**/api/tokens/")
    assert page.get_by_role("heading", level=1).inner_text() == "API tokens"
    page.get_by_label("Token name").fill("Nightly CRM sync")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label(f"Token for {org.name}").input_value()
    token = ApiToken.objects.get()
    assert secret.startswith(f"fry_{token.prefix}_")
    page.screenshot(path=str(screenshot_dir / "api-tokens-created.png"), full_page=True)

    page.goto(f"{live_server.url}/api/tokens/")
    assert secret not in page.content()
    assert page.get_by_role("cell", name="Nightly CRM sync", exact=True).is_visible()
    page.screenshot(path=str(screenshot_dir / "api-tokens.png"), full_page=True)
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Revoke token Nightly CRM sync").click()
    assert "Revoke “Nightly CRM sync”?" in dialogs[0]
    assert ApiToken.objects.exists()  # dismissed: nothing revoked
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Revoke token Nightly CRM sync").click()
    page.wait_for_selector("text=was revoked")
    assert not ApiToken.objects.exists()


def test_it_renders_the_documentation_from_vendored_assets(
    page, live_server, login, owner, screenshot_dir
):
    external = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/api/docs/")
    assert page.get_by_role("heading", level=1).inner_text() == "API documentation"
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/{resource}/import/" in p.replace("\u200b", "") for p in paths)
    page.screenshot(path=str(screenshot_dir / "api-docs.png"), full_page=False)
    assert external == []
