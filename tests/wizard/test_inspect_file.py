"""``manage.py inspect_file``: text and JSON output, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("inspect_file", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def semicolon_csv(tmp_path) -> Path:
    path = tmp_path / "clients.csv"
    path.write_bytes(
        "Export of 2024-05-01\n\nNom;Ville;Code\nZoë;Genève;0042\nLéa;Zürich;0007\n".encode(
            "cp1252"
        )
    )
    return path


def test_it_prints_what_it_detects_as_text(semicolon_csv):
    output = run(str(semicolon_csv))
    assert "Format:      csv" in output
    assert "Encoding:    cp1252" in output
    assert "Delimiter:   semicolon (;)" in output
    assert "Header row:  3" in output
    assert "Rows:        2" in output
    assert "    1. Nom" in output
    assert "Zoë | Genève | 0042" in output
    assert "Skipped 1 row above the header (row 3)." in output


def test_it_prints_one_json_object_with_json(semicolon_csv):
    data = json.loads(run(str(semicolon_csv), "--json"))
    assert data["format"] == "csv"
    assert data["encoding"] == "cp1252"
    assert data["delimiter"] == ";"
    assert data["header_row"] == 3
    assert data["headers"] == ["Nom", "Ville", "Code"]
    assert data["row_estimate"] == 2
    assert data["sample_rows"] == [["Zoë", "Genève", "0042"], ["Léa", "Zürich", "0007"]]


def test_it_applies_the_overrides(semicolon_csv):
    data = json.loads(
        run(
            str(semicolon_csv),
            "--json",
            "--encoding",
            "latin-1",
            "--delimiter",
            ";",
            "--header-row",
            "1",
        )
    )
    assert data["encoding"] == "iso8859-1"
    assert data["header_row"] == 1
    assert data["headers"] == ["Export of 2024-05-01"]


def test_it_lists_sheets_and_reads_the_one_asked(tmp_path):
    path = tmp_path / "book.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Cover"
    workbook.active.append(["nothing here"])
    sheet = workbook.create_sheet("Stock")
    sheet.append(["sku", "qty"])
    sheet.append(["A-1", 4])
    workbook.save(path)
    output = run(str(path), "--sheet", "Stock")
    assert "Sheets:      Cover, Stock (chosen)" in output
    assert "A-1 | 4" in output
    data = json.loads(run(str(path), "--sheet", "Stock", "--json"))
    assert data["sheets"] == ["Cover", "Stock"]
    assert data["sample_rows"] == [["A-1", 4]]


def test_it_raises_a_command_error_for_an_unusable_file(tmp_path):
    path = tmp_path / "scan.csv"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    with pytest.raises(CommandError, match="not a CSV, Excel"):
        run(str(path))
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="no sheet named 'Nope'"):
        xlsx = tmp_path / "one.xlsx"
        openpyxl.Workbook().save(xlsx)
        run(str(xlsx), "--sheet", "Nope")


def _manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "inspect_file", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_exits_0_with_output_and_1_with_the_reason_on_stderr(tmp_path, semicolon_csv):
    good = _manage(str(semicolon_csv), "--json")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["headers"] == ["Nom", "Ville", "Code"]
    bad_path = tmp_path / "bad.json"
    bad_path.write_text('[{"a": 1},\n {"a": NaN}]', encoding="utf-8")
    bad = _manage(str(bad_path))
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "Line 2, column 8: NaN is not allowed in JSON" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_it_reads_a_real_sample_file(samples):
    data = json.loads(
        run(str(samples / "frictionless-data/table-with-accents.csv"), "--json", "--rows", "1")
    )
    assert data["delimiter"] == ";"
    assert data["headers"][3] == "Année"
    assert len(data["sample_rows"]) == 1
