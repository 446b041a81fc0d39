"""Every main page fits a 390 px phone without sideways scrolling, for each persona who sees it,
and the top navigation folds behind a Menu button whose links are all reachable.

The page list follows config/urls.py and the apps' urls: dashboard and job page, the wizard's
upload/map/preview/run/results, the template library, records index and a records list, the
export builder, reports list and a report, schedules, sync, API tokens and docs, members and
organization settings. Screenshots at 1366 and 390 px go to a temporary folder, not the repo.
"""

from __future__ import annotations

import os
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import browser_login
from jobs.models import DataJob
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.consumer]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SHOTS = Path(os.environ.get("FERRY_SHOTS_DIR", Path(tempfile.gettempdir()) / "ferry-layout"))

# No company column: its accounts would not exist yet, every row would be invalid and the
# preview rightly offers no run (the run and results pages must be reached here).
CSV_TEXT = (
    "E-mail,First name,Last name\r\n"
    "ada.lovelace.with.a.rather.long.address@analytical-engines.example,Ada,Lovelace\r\n"
    "grace@example.com,Grace,Hopper\r\n"
    "not-an-email,Alan,Turing\r\n"
)

# Offenders: elements sticking out on the right that are not inside a box that scrolls.
OFFENDERS_JS = """() => {
  const out = [];
  const limit = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= limit + 1) continue;
    let p = el.parentElement, clipped = false;
    while (p && p !== document.body) {
      const s = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX)) { clipped = true; break; }
      p = p.parentElement;
    }
    if (!clipped) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
      ' right=' + Math.round(r.right));
    if (out.length > 8) break;
  }
  return out;
}"""


def _context(browser, live_server, username: str, viewport: dict):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(20_000)
    page = context.new_page()
    browser_login(page, live_server, username)
    return context, page


def assert_fits(page, url: str, label: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{label}: {url} {response}"
    page.wait_for_load_state("networkidle")
    assert_no_sideways_scroll(page, label)


def assert_no_sideways_scroll(page, label: str, limit: int = PHONE["width"]) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > limit:
        offenders = page.evaluate(OFFENDERS_JS)
        name = re.sub(r"\W+", "-", label)
        page.screenshot(path=str(SHOTS / f"too-wide-{name}.png"), full_page=True)
        raise AssertionError(f"{label} ({page.url}) is {width} px wide at {limit} px: {offenders}")


def assert_zero_counts_neutral(page) -> None:
    """A count of 0 is not a success, a warning or an error: its box takes no colour."""
    coloured = page.evaluate(
        """() => [...document.querySelectorAll('.stat')]
          .filter(s => s.querySelector('.value')?.textContent.trim() === '0')
          .filter(s => s.className.trim() !== 'stat')
          .map(s => s.querySelector('.label').textContent.trim() + ': ' + s.className)"""
    )
    assert not coloured, f"{page.url}: zero counts coloured: {coloured}"


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def business_data(org):
    customer = CustomerFactory(
        organization=org, code="WH-SOUTH-0001", name="Alpine Bikes and Outdoor Equipment AG"
    )
    for n in range(3):
        order = SalesOrderFactory(customer=customer, number=f"SO-2026-{n:05d}")
        SalesOrderLineFactory(order=order, quantity=Decimal("3"), unit_price=Decimal("1249.90"))
    for n in range(5):
        ContactFactory(
            organization=org,
            email=f"someone.with.a.long.name{n}@a-rather-long-company-domain.example",
        )
    return customer


@pytest.fixture
def schedule(org, manager):
    from reports.schedules.services import schedule_create
    from tests.reports.schedules.conftest import schedule_data

    data = schedule_data(
        name="Weekly sales for the board",
        recipients=["board.members.distribution.list@example.com"],
    )
    return schedule_create(organization=org, user=manager, data=data)


def run_the_wizard(page, live_server, tmp_path, *, until: str = "results") -> dict[str, str]:
    """Import a small CSV through the steps up to ``until``; the URLs of the steps and the job."""
    path = tmp_path / "contacts-from-the-crm.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    urls = {"upload": f"{live_server.url}/import/?resource=contacts"}
    page.goto(urls["upload"])
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(re.compile(r"/import/\d+/map/$"))
    urls["map"] = page.url
    page.get_by_role("button", name="Continue to preview").click()
    page.wait_for_url(re.compile(r"/import/\d+/preview/$"))
    expect(page.locator("#preview-counts")).to_be_visible(timeout=30_000)
    urls["preview"] = page.url
    if until == "preview":
        return urls
    page.get_by_role("link", name="Continue to run →").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Run the import")
    urls["run"] = page.url
    page.get_by_label("Skip invalid rows").check()
    page.get_by_role("button", name="Start the import").click()
    page.wait_for_url(re.compile(r"/import/\d+/results/$"), timeout=60_000)
    urls["results"] = page.url
    job = DataJob.objects.filter(job_type="import").latest("pk")
    urls["job"] = f"{live_server.url}/jobs/{job.pk}/"
    return urls


def test_it_fits_every_main_page_on_a_phone(
    browser,
    live_server,
    org,
    owner,
    manager,
    member,
    viewer,
    business_data,
    schedule,
    huey_consumer,
    tmp_path,
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    # The member runs the wizard on a desktop; the same pages are then read on a phone.
    context, page = _context(browser, live_server, "member", DESKTOP)
    wizard = run_the_wizard(page, live_server, tmp_path)
    # Zero counts are neutral; only a count that is not zero takes a colour.
    counts = {
        el.get_attribute("data-count"): el.evaluate("e => e.closest('.stat').className")
        for el in page.locator("[data-count]").all()
    }
    assert counts["updated"] == "stat" and counts["skipped"] == "stat", counts
    assert counts["created"] == "stat ok" and counts["failed"] == "stat err", counts
    assert_zero_counts_neutral(page)
    page.goto(f"{base}/jobs/")
    assert_zero_counts_neutral(page)
    # A second file stays a draft at its preview: its map and preview pages stay open.
    draft = run_the_wizard(page, live_server, tmp_path, until="preview")
    wizard.update(map=draft["map"], preview=draft["preview"])
    preview_counts = page.locator("#preview-counts")
    # The same file again: two rows are now unchanged, the bad e-mail is still invalid.
    expect(preview_counts.locator(".stat.err .value")).to_have_text("1")
    expect(preview_counts.locator(".stat.ok, .stat.warn")).to_have_count(0)
    assert_zero_counts_neutral(page)
    shoot(page, "wizard-preview-1366")
    assert_no_sideways_scroll(page, "wizard preview 1366", DESKTOP["width"])
    context.close()

    from accounts.models import Membership

    member_page = Membership.objects.get(user=member, organization=org).pk
    everyone = {
        "dashboard": f"{base}/jobs/",
        "job detail": wizard["job"],
        "templates library": f"{base}/import/templates/",
        "records index": f"{base}/records/",
        "records list": f"{base}/records/contacts/",
        "customers list": f"{base}/records/customers/",
        "export builder": f"{base}/export/?resource=customers",
        "reports list": f"{base}/export/reports/",
        "API tokens": f"{base}/api/tokens/",
        "API docs": f"{base}/api/docs/",
    }
    importers = {f"wizard {step}": wizard[step] for step in ("upload",)}
    wizard_own = {f"wizard {s}": wizard[s] for s in ("map", "preview", "run", "results")}
    managers = {
        "report page": f"{base}/export/reports/sales/",
        "schedules": f"{base}/export/schedules/",
        "schedule detail": f"{base}/export/schedules/{schedule.pk}/",
        "schedule form": f"{base}/export/schedules/new/",
    }
    admins = {
        "members": f"{base}/accounts/members/",
        "member detail": f"{base}/accounts/members/{member_page}/",
        "organization settings": f"{base}/accounts/settings/",
        "sync dashboard": f"{base}/sync/",
        "sync new connection": f"{base}/sync/new/",
    }
    personas = {
        "owner": everyone | importers | managers | admins,
        "manager": everyone | importers | managers,
        "member": everyone | importers | wizard_own,
        "viewer": {k: v for k, v in everyone.items() if k != "job detail"},
    }
    for username, pages in personas.items():
        context, page = _context(browser, live_server, username, PHONE)
        for label, url in pages.items():
            assert_fits(page, url, f"{username}: {label}")
            if username == "member" and label == "wizard preview":
                shoot(page, "wizard-preview-390")
        context.close()


def test_it_folds_the_navigation_behind_a_menu_button(browser, live_server, owner, viewer):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for username in ("owner", "viewer"):
        context, page = _context(browser, live_server, username, PHONE)
        page.goto(f"{live_server.url}/jobs/")
        menu = page.get_by_role("button", name="Menu")
        expect(menu).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "false")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        links = nav.get_by_role("link")
        assert links.count() >= 6
        for link in links.all():
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        for name in ("Templates", "Records", "Jobs", "Export"):
            expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        expect(page.get_by_role("link", name="API", exact=True)).to_be_visible()
        if username == "owner":
            expect(nav.get_by_role("link", name="Members")).to_be_visible()
            shoot(page, "menu-open-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # Escape closes it again and gives the focus back to the button.
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()
        # The menu leads somewhere: Records opens the records index.
        menu.click()
        nav.get_by_role("link", name="Records", exact=True).click()
        page.wait_for_url(re.compile(r"/records/$"))
        context.close()

    # On a desktop there is no Menu button: every link shows in the bar.
    context, page = _context(browser, live_server, "owner", DESKTOP)
    page.goto(f"{live_server.url}/jobs/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Records")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    context.close()


def test_it_keeps_the_links_reachable_without_javascript(browser, live_server, owner):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    browser_login(page, live_server, "owner")
    nav = page.get_by_role("navigation", name="Main")
    for link in nav.get_by_role("link").all():
        expect(link).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


@pytest.mark.parametrize(
    ("url", "actions", "hidden", "desktop_text"),
    [
        (
            "/records/",
            "table.records-index td.actions a",
            "th.description",
            "People at your accounts.",
        ),
        ("/accounts/members/", "table.members a.button", "th:has-text('E-mail')", "Member since"),
    ],
)
def test_it_fits_a_tables_rows_and_their_actions_on_a_phone(
    browser, live_server, owner, manager, url, actions, hidden, desktop_text
):
    """Tables whose rows carry actions drop their secondary columns on a phone (``phone-hidden``):
    they scrolled sideways (allowed above), the records index cutting each type's Export and
    Import links at the screen's edge, the members table hiding every member's role."""
    context, page = _context(browser, live_server, "owner", PHONE)
    page.goto(f"{live_server.url}{url}")
    wrap = page.locator(".table-wrap").first
    sizes = wrap.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] <= sizes[1], f"{url}: the table scrolls sideways: {sizes}"
    links = page.locator(actions).all()
    assert links
    for link in links:
        box = link.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], link.inner_text()
    expect(page.locator(hidden).first).to_be_hidden()
    context.close()
    context, page = _context(browser, live_server, "owner", DESKTOP)
    page.goto(f"{live_server.url}{url}")
    expect(page.get_by_text(desktop_text).first).to_be_visible()
    context.close()


@pytest.mark.parametrize(
    "url", ["/jobs/", "/records/contacts/?q=nobody-is-called-this"], ids=["jobs", "records"]
)
def test_it_wraps_an_empty_tables_message_on_a_phone(browser, live_server, owner, url):
    """A table's cells keep to one line on a phone (its rows scroll sideways), but the message
    of an empty one wraps: "No jobs yet. Imports, exports and reports you start wi…" was cut
    at the screen's edge, a new user's first sight of the dashboard."""
    context, page = _context(browser, live_server, "owner", PHONE)
    page.goto(f"{live_server.url}{url}")
    message = page.locator(".table-wrap td[colspan]").first
    expect(message).to_be_visible()
    box = message.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"], message.inner_text()
    sizes = page.locator(".table-wrap").first.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] <= sizes[1], f"{url}: {sizes}"
    context.close()


def test_it_takes_the_screenshots_of_the_report(
    browser, live_server, org, owner, business_data, tmp_path
):
    """Dashboard, members page and export builder at 1366 and 390 px (wizard preview above)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "dashboard": "/jobs/",
        "members": "/accounts/members/",
        "export-builder": "/export/?resource=customers",
    }
    for viewport, suffix in ((DESKTOP, "1366"), (PHONE, "390")):
        context, page = _context(browser, live_server, "owner", viewport)
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            shoot(page, f"{name}-{suffix}")
            assert_no_sideways_scroll(page, f"{name} {suffix}", viewport["width"])
        context.close()
