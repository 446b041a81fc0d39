"""The preview's problems panel in a real browser (issue 11, case 8): a 10,000-row messy file is
previewed by a real Huey consumer, the panel shows the bad stages with their counts, one bulk fix
maps them, the preview runs again in the worker and the panel no longer lists them. Screenshots
at 1366 and 390 px (under /tmp)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from business.models import Account
from jobs.models import DataJob
from tests.wizard.test_preview_problems import expected, messy_file

pytestmark = [pytest.mark.browser, pytest.mark.consumer]
SHOTS = Path("/tmp/ferry-preview-problems")


def test_it_fixes_a_column_of_bad_values_in_bulk(
    page, live_server, login, member, org, huey_consumer, tmp_path
):
    SHOTS.mkdir(exist_ok=True)
    for name in ("Globex", "Nova AG", "NOVA AG"):
        Account.objects.create(organization=org, name=name)
    path = messy_file(tmp_path / "messy.csv")
    kunde, interessent, *_ = expected()
    login(page, live_server, "member")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/import/?resource=contacts")
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(re.compile(r"/import/\d+/map/$"))
    job = DataJob.objects.filter(job_type="import").exclude(params__dry_run=True).latest("pk")
    page.goto(f"{live_server.url}/import/{job.pk}/preview/")
    page.get_by_role("button", name="Start the preview").click()
    panel = page.locator("#problems")
    expect(panel).to_be_visible(timeout=120_000)
    stage = panel.locator(".problem-kind[data-kind=not_a_choice]")
    expect(stage).to_contain_text(f"{kunde + interessent} rows")
    expect(stage).to_contain_text("Kunde")
    page.screenshot(path=str(SHOTS / "panel-1366.png"), full_page=False)
    # The row number and status stay put while the table scrolls sideways.
    page.locator("#rows-title").scroll_into_view_if_needed()
    page.get_by_role("button", name=re.compile("Jump to the next problem")).click()
    expect(page.locator("tr.problem-current")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "rows-1366.png"), full_page=False)

    form = stage.locator("form.problem-fix").filter(has=page.locator("fieldset.value-map"))
    selects = form.locator("select[name=to]")
    selects.nth(0).select_option("customer")
    selects.nth(1).select_option("lead")
    form.get_by_role("button", name="Map these values").click()
    expect(page.locator(".message.success")).to_contain_text("will be read as you chose")
    expect(page.locator("#problems")).to_be_visible(timeout=120_000)
    page.reload()
    expect(page.locator(".problem-kind[data-kind=not_a_choice]")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "panel-390.png"), full_page=False)
