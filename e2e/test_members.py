"""The members page in Chromium: an admin invites someone, the mail arrives at a real SMTP
server, the link sets a username and password, the newcomer logs in; the admin then changes
their permissions and role and removes them. Every step is in the audit trail."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Membership
from accounts.permissions import Role
from business.models import AuditEvent
from conftest import parts

pytestmark = [pytest.mark.browser]

SHOTS = Path(os.environ.get("FERRY_SHOTS_DIR", Path(tempfile.gettempdir()) / "ferry-layout"))


def test_it_invites_someone_who_accepts_and_logs_in(
    browser, page, live_server, login, org, owner, member, smtp
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    login(page, live_server, "owner")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()

    page.get_by_label("E-mail address").fill("newcomer@example.com")
    page.get_by_label("Role").select_option(Role.MANAGER)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to newcomer@example.com.")).to_be_visible()
    pending = page.locator("table.invitations")
    expect(pending).to_contain_text("newcomer@example.com")
    expect(pending).to_contain_text("Manager")

    (mail,) = smtp.wait(1)
    assert mail["To"] == "newcomer@example.com"
    body = parts(mail)
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", body["text"]).group(0)
    assert f'href="{link}"' in body["html"]

    # The invited person opens the link in their own browser.
    guest_context = browser.new_context(viewport={"width": 390, "height": 844})
    guest = guest_context.new_page()
    guest.goto(link)
    expect(guest.get_by_role("heading", level=1)).to_have_text("Join Demo Trading Co.")
    expect(guest.get_by_text("newcomer@example.com")).to_be_visible()
    guest.screenshot(path=str(SHOTS / "invitation-accept-390.png"), full_page=True)
    guest.get_by_label("Username").fill("newcomer")
    guest.get_by_label("Password", exact=True).fill("short")
    guest.get_by_label("Password again").fill("short")
    guest.get_by_role("button", name="Create my account and join").click()
    expect(guest.locator("#id_password1-error")).to_be_visible()
    guest.get_by_label("Password", exact=True).fill("Harbour-lights-2026")
    guest.get_by_label("Password again").fill("Harbour-lights-2026")
    guest.get_by_role("button", name="Create my account and join").click()
    guest.wait_for_url(re.compile(r"/accounts/login/"))
    expect(guest.get_by_text("Welcome to Demo Trading Co.")).to_be_visible()
    login(guest, live_server, "newcomer", "Harbour-lights-2026")
    expect(guest.get_by_role("heading", level=1, name="Jobs")).to_be_visible()
    guest.get_by_role("button", name="Menu").click()
    nav = guest.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Schedules")).to_be_visible()
    expect(nav.get_by_role("link", name="Members")).to_have_count(0)
    # The link worked once.
    guest.goto(link)
    expect(guest.get_by_text("already been accepted")).to_be_visible()
    guest_context.close()

    # The admin sees the newcomer and takes the customers PDF away, then makes them a viewer.
    page.reload()
    expect(page.locator("table.invitations")).to_have_count(0)
    row = page.locator("table.members tr", has_text="newcomer")
    expect(row).to_contain_text("Manager")
    row.get_by_role("link", name="Manage newcomer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("newcomer")
    pdf = page.get_by_label("PDF Customers")
    expect(pdf).to_be_checked()
    pdf.uncheck()
    page.get_by_label("Print invoices").uncheck()
    page.get_by_role("button", name="Save permissions").click()
    expect(page.get_by_text("newcomer's permissions saved.")).to_be_visible()
    expect(page.get_by_label("PDF Customers")).not_to_be_checked()
    page.screenshot(path=str(SHOTS / "member-detail-1366.png"), full_page=True)
    newcomer = Membership.objects.get(organization=org, user__username="newcomer")
    assert newcomer.role == Role.MANAGER
    assert sorted(newcomer.revoked_permissions) == ["can_export_customer_pdf", "can_print_invoice"]

    page.get_by_role("combobox", name="Role").select_option(Role.VIEWER)
    page.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("newcomer's role changed.")).to_be_visible()
    newcomer.refresh_from_db()
    assert newcomer.role == Role.VIEWER

    # Their own row cannot be changed: the admin cannot demote or remove themselves.
    page.goto(f"{live_server.url}/accounts/members/")
    page.locator("table.members tr", has_text="owner").get_by_role("link", name="Manage").click()
    expect(page.get_by_text("This is you.")).to_be_visible()
    expect(page.get_by_role("combobox", name="Role")).to_be_disabled()
    expect(page.get_by_role("button", name="Remove member")).to_have_count(0)

    page.goto(f"{live_server.url}/accounts/members/{newcomer.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove member").click()
    expect(page.get_by_text("newcomer no longer belongs to Demo Trading Co.")).to_be_visible()
    assert not Membership.objects.filter(pk=newcomer.pk).exists()

    actions = list(
        AuditEvent.objects.filter(organization=org, event_type=AuditEvent.Type.MEMBER)
        .order_by("time", "pk")
        .values_list("details__action", flat=True)
    )
    assert actions == ["invited", "joined", "permissions_changed", "role_changed", "removed"]
