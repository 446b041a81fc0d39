"""The import wizard in a real browser: Chromium, a live server and a real Huey consumer.

First run: a semicolon CSV with a UTF-8 BOM, accented (Latin-1 range) names, an invalid date and
a duplicate e-mail. One column is mapped by hand, the mapping is saved as a template, the invalid
cell is fixed inline, the import runs skipping invalid rows, the failed-rows file is downloaded
and read, and the import is undone. Second run: an XLSX with a title row re-uses the template.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from business.models import Contact
from jobs.models import DataJob
from library.models import DataTemplate

pytestmark = [pytest.mark.browser, pytest.mark.consumer]

CSV_TEXT = (
    "E-mail;Prénom;Nom;Anniversaire\r\n"
    "ada@example.com;Ada;Lovelace;1815-12-10\r\n"
    "rene@example.com;René;Descartes;1596-03-31\r\n"
    "grace@example.com;Grace;Hopper;1906-13-45\r\n"
    "ada@example.com;Augusta;King;1815-12-10\r\n"
    "zoe@example.com;Zoë;Müller;1990-07-14\r\n"
)


def shot(page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / f"wizard-{name}.png"), full_page=True)
    # Every step works in a 1280 px window: nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, name


def wait_for_htmx(page) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_it_drives_the_whole_wizard_twice(
    page, live_server, login, member, org, huey_consumer, screenshot_dir, tmp_path
):
    csv_path = tmp_path / "crm-export.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"))

    login(page, live_server, "member")

    # --- 1. upload -------------------------------------------------------------------------
    page.goto(f"{live_server.url}/import/?resource=contacts")
    expect(page.get_by_role("heading", level=1, name="Import records")).to_be_visible()
    expect(page.get_by_label("Import into")).to_have_value("contacts")
    # A file Ferry cannot read is refused next to the file control, without leaving the page.
    docx = tmp_path / "minutes.docx"
    docx.write_bytes(b"PK\x03\x04 not a spreadsheet")
    page.get_by_label("File", exact=True).set_input_files(str(docx))
    page.get_by_role("button", name="Upload and continue").click()
    error = page.locator("#id_file_error")
    expect(error).to_contain_text("cannot read '.docx' files")
    expect(error).to_have_attribute("role", "alert")
    expect(page.get_by_label("File", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("File", exact=True)).to_be_focused()
    shot(page, screenshot_dir, "1-upload-refused")
    page.get_by_label("File", exact=True).set_input_files(str(csv_path))
    expect(page.locator("[data-chosen]")).to_contain_text("crm-export.csv")
    shot(page, screenshot_dir, "1-upload")
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(re.compile(r"/import/\d+/map/$"))
    job = DataJob.objects.filter(job_type="import").latest("pk")

    # --- 2. configure & map ----------------------------------------------------------------
    expect(page.get_by_role("heading", level=1)).to_contain_text("crm-export.csv")
    detected = page.locator(".detected dl")
    expect(detected).to_contain_text(";")
    expect(detected).to_contain_text("utf-8")
    expect(page.locator("#reason-0")).to_have_text("exact")
    expect(page.locator("#reason-1")).to_have_text("synonym")
    expect(page.locator("#reason-2")).to_have_text("synonym")
    # "Anniversaire" matches nothing: map it by hand.
    birthday = page.get_by_label("Field for column Anniversaire")
    expect(birthday).to_have_value("")
    birthday.select_option("birth_date")
    expect(page.locator("#reason-3")).to_have_text("manual")
    wait_for_htmx(page)
    job.refresh_from_db()
    assert job.params["mapping"]["Anniversaire"] == "birth_date"
    # Reload: the hand-made choice is still there (it lives on the server).
    page.reload()
    expect(page.get_by_label("Field for column Anniversaire")).to_have_value("birth_date")
    page.get_by_label("Template name").fill("Weekly CRM contacts")
    page.get_by_role("button", name="Save as template").click()
    expect(page.locator("#template-box")).to_contain_text("Saved the template")
    template = DataTemplate.objects.get(organization=org, name="Weekly CRM contacts")
    assert template.mapping == {
        "E-mail": "email",
        "Prénom": "first_name",
        "Nom": "last_name",
        "Anniversaire": "birth_date",
    }
    shot(page, screenshot_dir, "2-map")

    # --- 3. preview ------------------------------------------------------------------------
    page.get_by_role("button", name="Continue to preview").click()
    page.wait_for_url(re.compile(r"/import/\d+/preview/$"))
    counts = page.locator("#preview-counts")
    expect(counts).to_be_visible(timeout=30_000)
    expect(counts.locator(".stat.err .value")).to_have_text("2")
    expect(counts.locator(".stat.ok .value")).to_have_text("3")
    bad = page.locator("td.cell-error", has_text="1906-13-45")
    expect(bad).to_be_visible()
    # Row 5 repeats ada@example.com with other names: the repeat is shown on the columns whose
    # values disagree (first and last name), each naming the key and the earlier row.
    expect(page.locator("td.cell-error", has_text="ada@example.com")).to_have_count(2)
    expect(page.get_by_text("René")).to_be_visible()
    expect(page.get_by_text("Müller")).to_be_visible()
    shot(page, screenshot_dir, "3-preview")

    page.get_by_label("Only rows with problems").check()
    expect(page.locator("table.preview-table tbody tr")).to_have_count(2)
    shot(page, screenshot_dir, "3-preview-problems")

    bad.get_by_role("button", name=re.compile("Fix row .*, column Anniversaire")).click()
    field = page.get_by_label(re.compile("New value for row .*, column Anniversaire"))
    expect(field).to_be_focused()
    expect(field).to_have_value("1906-13-45")
    field.fill("1906-12-09")
    shot(page, screenshot_dir, "3-preview-editing")
    field.press("Enter")
    expect(counts.locator(".stat.err .value")).to_have_text("1")
    expect(page.locator("tr:focus")).to_have_count(1)
    # Escape leaves an inline edit without changing anything.
    page.get_by_role("button", name=re.compile("Fix row .*, column Prénom")).click()
    expect(page.locator(".cell-form input[name=value]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".cell-form")).to_have_count(0)
    expect(counts.locator(".stat.ok .value")).to_have_text("4")
    fixed = page.locator("td.cell", has_text="1906-12-09")
    expect(fixed).to_be_visible()
    expect(fixed).not_to_have_class(re.compile("cell-error"))
    shot(page, screenshot_dir, "3-preview-fixed")

    # --- 4. run ----------------------------------------------------------------------------
    page.get_by_role("link", name="Continue to run →").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Run the import")
    page.get_by_label("Skip invalid rows").check()
    page.get_by_label("Skip existing records").check()
    shot(page, screenshot_dir, "4-run")
    page.get_by_role("button", name="Start the import").click()
    # Small files finish fast; catch the progress page when the worker is not done yet.
    if "/run/" in page.url:
        shot(page, screenshot_dir, "4-run-progress")

    # --- 5. results ------------------------------------------------------------------------
    page.wait_for_url(re.compile(r"/import/\d+/results/$"), timeout=60_000)
    expect(page.locator('[data-count="created"]')).to_have_text("4")
    expect(page.locator('[data-count="failed"]')).to_have_text("1")
    expect(page.locator("#row-log")).to_contain_text("ada@example.com")
    shot(page, screenshot_dir, "5-results")
    assert sorted(Contact.objects.filter(organization=org).values_list("email", flat=True)) == [
        "ada@example.com",
        "grace@example.com",
        "rene@example.com",
        "zoe@example.com",
    ]
    grace = Contact.objects.get(organization=org, email="grace@example.com")
    assert grace.birth_date == dt.date(1906, 12, 9)
    assert Contact.objects.get(organization=org, email="rene@example.com").first_name == "René"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the failed rows").click()
    failed_path = download_info.value.path()
    text = Path(failed_path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    if len(rows[0]) == 1:  # written with the engine's default delimiter
        rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["Ferry row", "E-mail", "Prénom", "Nom", "Anniversaire"]
    assert rows[0][-1] == "error"
    assert len(rows) == 2
    assert rows[1][1:5] == ["ada@example.com", "Augusta", "King", "1815-12-10"]
    assert "ada@example.com" in rows[1][-1] or "duplicate" in rows[1][-1].lower()

    page.get_by_role("link", name="Undo this import…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Undo the import")
    shot(page, screenshot_dir, "5-undo-confirm")
    page.get_by_role("button", name="Yes, undo this import").click()
    expect(page.get_by_text("This import was undone")).to_be_visible()
    shot(page, screenshot_dir, "5-undone")
    assert not Contact.objects.filter(organization=org).exists()
    page.get_by_role("link", name="See the contacts").click()
    expect(page).to_have_url(re.compile(r"/records/contacts/"))
    expect(page.locator("body")).not_to_contain_text("rene@example.com")
    shot(page, screenshot_dir, "5-records-empty")

    # --- second run: an XLSX with a title row re-uses the saved template -----------------------
    wb = Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["CRM export — week 47"])
    ws.append([])
    ws.append(["E-mail", "Prénom", "Nom", "Anniversaire"])
    ws.append(["linus@example.com", "Linus", "Torvalds", dt.date(1969, 12, 28)])
    ws.append(["katherine@example.com", "Katherine", "Johnson", dt.date(1918, 8, 26)])
    ws.append(["hedy@example.com", "Hedy", "Lamarr", dt.date(1914, 11, 9)])
    for row in ws.iter_rows(min_row=4, min_col=4, max_col=4):
        row[0].number_format = "yyyy-mm-dd"
    xlsx_path = tmp_path / "crm-week-47.xlsx"
    wb.save(xlsx_path)

    page.goto(f"{live_server.url}/import/templates/")
    expect(page.get_by_role("heading", level=1, name="Saved templates")).to_be_visible()
    expect(page.locator("table.templates")).to_contain_text("Weekly CRM contacts")
    shot(page, screenshot_dir, "6-templates")
    page.get_by_role("link", name="Weekly CRM contacts", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Weekly CRM contacts")).to_be_visible()
    expect(page.get_by_label("File column 4")).to_have_value("Anniversaire")
    expect(page.get_by_label("Field for column 4")).to_have_value("birth_date")
    shot(page, screenshot_dir, "6-template-edit")
    page.get_by_role("link", name="All templates").click()
    page.get_by_role("link", name="Use Weekly CRM contacts").click()
    expect(page.get_by_label("Saved template (optional)")).to_have_value(str(template.pk))
    page.get_by_label("File", exact=True).set_input_files(str(xlsx_path))
    shot(page, screenshot_dir, "6-upload-xlsx")
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(re.compile(r"/import/\d+/map/$"))
    expect(page.get_by_text("Using the template")).to_contain_text("Weekly CRM contacts")
    for index in range(4):
        expect(page.locator(f"#reason-{index}")).to_have_text("template")
    expect(page.locator(".detected dl")).to_contain_text("XLSX")
    expect(page.locator(".detected dl dd").nth(2)).to_have_text("3")  # the header row
    expect(page.get_by_label("Field for column Anniversaire")).to_have_value("birth_date")
    shot(page, screenshot_dir, "7-map-xlsx")
    page.get_by_role("button", name="Continue to preview").click()
    page.wait_for_url(re.compile(r"/import/\d+/preview/$"))
    expect(counts.locator(".stat.ok .value")).to_have_text("3", timeout=30_000)
    # No invalid rows: the count reads 0 and takes no red (issue 14).
    expect(counts.locator(".stat", has_text="Invalid").locator(".value")).to_have_text("0")
    expect(counts.locator(".stat.err")).to_have_count(0)
    shot(page, screenshot_dir, "7-preview-xlsx")
    page.get_by_role("link", name="Continue to run →").click()
    page.get_by_role("button", name="Start the import").click()
    page.wait_for_url(re.compile(r"/import/\d+/results/$"), timeout=60_000)
    expect(page.locator('[data-count="created"]')).to_have_text("3")
    expect(page.locator('[data-count="failed"]')).to_have_text("0")
    shot(page, screenshot_dir, "7-results-xlsx")
    linus = Contact.objects.get(organization=org, email="linus@example.com")
    assert (linus.last_name, linus.birth_date) == ("Torvalds", dt.date(1969, 12, 28))
    template.refresh_from_db()
    assert template.last_used_at is not None


REFS_CSV = (
    "Email,First name,Company\n"
    "ada@example.com,Ada,Analytical Engines\n"
    "grace@example.com,Grace,Navy\n"
    "alan@example.com,Alan,Bletchley\n"
    "joan@example.com,Joan,Bletchley\n"
)


def test_it_resolves_unknown_references_from_the_preview(
    page, live_server, login, member, org, huey_consumer, screenshot_dir, tmp_path
):
    from business.models import Account
    from tests.factories import AccountFactory

    AccountFactory(organization=org, name="US Navy")
    path = tmp_path / "people.csv"
    path.write_text(REFS_CSV, encoding="utf-8")
    login(page, live_server, "member")
    page.goto(f"{live_server.url}/import/?resource=contacts")
    # This time the file is dropped on the drop zone instead of picked.
    dropped = page.evaluate_handle(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "people.csv", {type: "text/csv"}));
            return transfer;
        }""",
        path.read_text(encoding="utf-8"),
    )
    page.dispatch_event("[data-dropzone]", "dragover", {"dataTransfer": dropped})
    expect(page.locator("[data-dropzone]")).to_have_class(re.compile("dragover"))
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": dropped})
    expect(page.locator("[data-chosen]")).to_contain_text("people.csv")
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(re.compile(r"/import/\d+/map/$"))
    expect(page.get_by_label("Field for column Company")).to_have_value("account")
    page.get_by_role("button", name="Continue to preview").click()
    counts = page.locator("#preview-counts")
    expect(counts.locator(".stat.err .value")).to_have_text("4", timeout=30_000)
    # Unknown references are listed once, in the problems panel, each value with its own fix.
    panel = page.locator("#problems")
    refs = panel.locator(".problem-kind[data-kind=missing_reference]")
    expect(refs.locator(".ref-values form")).to_have_count(3)
    expect(refs.locator(".problem-head")).to_contain_text("4 rows · 3 distinct values")
    expect(refs.locator("li", has_text="Bletchley")).to_contain_text("×2")
    shot(page, screenshot_dir, "8-references")

    navy = refs.locator("li", has_text="Navy")
    navy.get_by_label("Existing account for “Navy”").fill("US Navy")
    navy.get_by_role("button", name="Use it").click()
    expect(page.get_by_text("will use the existing account 'US Navy'")).to_be_visible()
    expect(counts.locator(".stat.err .value")).to_have_text("3", timeout=30_000)
    expect(panel.locator(".reference-decisions")).to_contain_text("Navy → uses US Navy")
    refs.get_by_role("button", name="Create the missing records").click()
    invalid = counts.locator(".stat", has_text="Invalid").locator(".value")
    expect(invalid).to_have_text("0", timeout=30_000)
    expect(counts.locator(".stat.err")).to_have_count(0)
    expect(counts.locator(".stat.ok .value")).to_have_text("4")
    shot(page, screenshot_dir, "8-references-resolved")

    page.get_by_role("link", name="Continue to run →").click()
    page.get_by_role("button", name="Start the import").click()
    page.wait_for_url(re.compile(r"/import/\d+/results/$"), timeout=60_000)
    expect(page.locator('[data-count="created"]')).to_have_text("4")
    grace = Contact.objects.select_related("account").get(
        organization=org, email="grace@example.com"
    )
    assert grace.account.name == "US Navy"
    assert set(Account.objects.filter(organization=org).values_list("name", flat=True)) == {
        "US Navy",
        "Analytical Engines",
        "Bletchley",
    }
