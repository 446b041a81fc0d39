"""The template library's edit page in a real browser: an admin edits one field's options and
rules through the form (no JSON), adds and removes value-map rows, checks sample values live,
saves, and finds the settings stored. Screenshots at 1366 px and 390 px; the page never
scrolls sideways at 390 px."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from library.models import DataTemplate

pytestmark = [pytest.mark.browser]

SHOTS = Path(os.environ.get("FERRY_SHOTS", "/tmp/ferry-shots"))


def wait_for_htmx(page) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.screenshot(path=str(SHOTS / f"library-{name}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)


def test_it_edits_a_templates_field_options_through_the_form(page, live_server, login, owner, org):
    template = DataTemplate.objects.create(
        organization=org,
        created_by=owner,
        name="Weekly CRM contacts",
        resource="contacts",
        is_shared=True,
        mapping={"E-mail": "email", "Téléphone": "phone", "Newsletter": "do_not_email"},
        options={"do_not_email": {"value_map": {"Non": "true"}}},
        rules={"email": {"required": True}},
    )
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/import/templates/{template.pk}/")
    expect(page.get_by_role("heading", level=1, name="Weekly CRM contacts")).to_be_visible()
    # One rename control: the name field of the form; no JSON text areas.
    expect(page.get_by_label("Rename to")).to_have_count(0)
    expect(page.locator("textarea.mono")).to_have_count(0)

    # The cards of fields with settings are open and say what they do.
    newsletter = page.locator("details[data-field=do_not_email]")
    expect(newsletter).to_have_attribute("open", "")
    expect(newsletter.locator("summary")).to_contain_text("1 mapped value")

    # Value map: add two rows with htmx, remove one.
    newsletter.get_by_role("button", name="Add a value").click()
    expect(newsletter.get_by_label("Value in the file")).to_have_count(2)
    newsletter.get_by_role("button", name="Add a value").click()
    expect(newsletter.get_by_label("Value in the file")).to_have_count(3)
    newsletter.get_by_label("Value in the file").nth(1).fill("Oui")
    newsletter.get_by_label("Value to import").nth(1).fill("false")
    newsletter.get_by_role("button", name="Remove this value").nth(2).click()
    expect(newsletter.get_by_label("Value in the file")).to_have_count(2)

    # Phone: required and a pattern, checked live against sample values.
    phone = page.locator("details[data-field=phone]")
    phone.locator("summary").click()
    phone.get_by_label("Required").check()
    phone.get_by_label("Pattern (regular expression the whole value must match)").fill(
        r"^\+[0-9 ]+$"
    )
    phone.get_by_label("Try sample values").fill("+33 1 42 68 53 00\n01 42 68 53 00\n")
    wait_for_htmx(page)
    results = phone.locator(".check-results")
    expect(results.locator("tr.pass")).to_have_count(1)
    expect(results.locator("tr.fail")).to_have_count(1)
    expect(results.locator("tr.fail")).to_contain_text("does not match the expected pattern")

    # Country-less contacts get a constant source.
    source = page.locator("details[data-field=source]")
    source.locator("summary").click()
    source.get_by_label("Same value for every row").fill("Trade fair")

    shot(page, "edit", 1366)
    shot(page, "edit", 390)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Template 'Weekly CRM contacts' saved.")).to_be_visible()

    template.refresh_from_db()
    assert template.options == {
        "do_not_email": {"value_map": {"Non": "true", "Oui": "false"}},
        "source": {"constant": "Trade fair"},
    }
    assert template.rules == {
        "email": {"required": True},
        "phone": {"required": True, "regex": r"^\+[0-9 ]+$"},
    }
    expect(page.locator("details[data-field=source]")).to_have_attribute("open", "")
    shot(page, "saved", 390)
