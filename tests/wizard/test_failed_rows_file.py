"""The failed-rows file is safe to open: written by the export writers, neutralised like exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.storage import default_storage
from openpyxl import Workbook, load_workbook

from business.models import Contact
from tests.wizard.test_engine import draft, media_in_tmp  # noqa: F401
from wizard.services import failed_rows_file, import_create, import_run_now

DANGER = "=cmd|'/C calc'!A0"
HYPERLINK = '=HYPERLINK("http://evil.example","click")'


def failed_rows_of(job) -> bytes:
    info = failed_rows_file(job=job)
    assert info is not None
    with default_storage.open(info["name"]) as fh:
        return fh.read()


def test_it_writes_no_formula_cell_in_the_xlsx(org, owner, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Email", "First name", "Notes"])
    ws.append(["a@x.com", "Ann", "fine"])
    # Cells that are text in the upload (openpyxl writes "=..." as a formula unless told).
    ws.append(["not-an-address", "Bob", "x"])
    ws["B3"].value = DANGER
    ws["B3"].data_type = "s"
    ws["C3"].value = HYPERLINK
    ws["C3"].data_type = "s"
    path = tmp_path / "people.xlsx"
    wb.save(path)
    job = import_run_now(job=draft(org, owner, "contacts", path))
    assert (job.summary["created"], job.summary["failed"]) == (1, 1)
    sheet = load_workbook(io.BytesIO(failed_rows_of(job))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Ferry row", "Email", "First name", "Notes", "error"]
    # Kept as the text it was (a text cell is never evaluated), so a fixed file re-imports it.
    assert values[1][1:4] == ["not-an-address", DANGER, HYPERLINK]


def test_it_neutralises_the_csv_like_an_export(org, owner, tmp_path):
    path = tmp_path / "people.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows(
            [
                ["Email", "First name", "Phone"],
                ["a@x.com", "Ann", "+41 44 668 18 00"],
                ["nope", DANGER, "+41 44 668 18 00"],
                ["also-bad", "@SUM(1+1)*cmd|' /C calc'!A0", "-12.50"],
            ]
        )
    job = import_run_now(job=draft(org, owner, "contacts", path))
    text = failed_rows_of(job).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Ferry row", "Email", "First name", "Phone", "error"]
    assert rows[1][1:4] == ["nope", "'" + DANGER, "+41 44 668 18 00"]
    assert rows[2][1:4] == ["also-bad", "'@SUM(1+1)*cmd|' /C calc'!A0", "-12.50"]
    assert not any(cell[:1] in "=+-@" and cell[:1] for row in rows for cell in row[1:3])


def test_it_neutralises_with_the_export_writers_code(org, owner, tmp_path):
    """The same function decides for exports and failed rows: no second implementation."""
    import wizard.services as services
    from business.writers.base import neutralize

    assert not hasattr(services, "_write_xlsx") and not hasattr(services, "_write_json")
    assert neutralize(DANGER) == "'" + DANGER


def test_it_re_imports_a_fixed_failed_rows_csv_with_the_value_intact(org, owner, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(f'Email,First name\nnope,"{DANGER}"\n', encoding="utf-8")
    job = import_run_now(job=draft(org, owner, "contacts", path))
    fixed = failed_rows_of(job).decode("utf-8-sig").replace("nope", "fixed@x.com")
    again = tmp_path / "again.csv"
    again.write_text(fixed, encoding="utf-8")
    with open(again, "rb") as fh:
        job2 = import_create(
            organization=org, user=owner, resource="contacts", file=fh, filename="again.csv"
        )
    job2 = import_run_now(job=job2)
    assert job2.summary["created"] == 1, job2.summary
    assert Contact.objects.get(email="fixed@x.com").first_name == DANGER


@pytest.mark.parametrize("ext", ["json", "jsonl"])
def test_it_writes_json_failed_rows_through_the_json_writers(org, owner, tmp_path, ext):
    path = tmp_path / f"people.{ext}"
    records = [{"Email": "a@x.com"}, {"Email": "nope", "First name": DANGER}]
    if ext == "json":
        path.write_text(json.dumps(records))
    else:
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    job = import_run_now(job=draft(org, owner, "contacts", path))
    text = failed_rows_of(job).decode()
    parsed = json.loads(text) if ext == "json" else [json.loads(line) for line in text.splitlines()]
    assert parsed == [
        {
            "Ferry row": "2",
            "Email": "nope",
            "First name": DANGER,
            "error": "'nope' is not a valid e-mail address",
        }
    ]
