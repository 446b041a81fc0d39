"""manage.py export_data: the builder's export from the command line."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from business.models import AuditEvent
from tests.factories import ContactFactory


@pytest.fixture
def contacts(org, other_org):
    for i in range(5):
        ContactFactory(
            organization=org,
            email=f"c{i}@example.com",
            lifecycle_stage="customer" if i < 2 else "lead",
        )
    ContactFactory(organization=other_org, email="secret@rival.example")


def test_it_exports_filtered_columns_of_one_organization(contacts, tmp_path):
    out = tmp_path / "customers.csv"
    call_command(
        "export_data",
        "contacts",
        "--format",
        "CSV",
        "--output",
        str(out),
        "--org",
        "demo",
        "--filter",
        "lifecycle_stage=customer",
        "--columns",
        "email,lifecycle_stage",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    rows = list(csv.reader(out.open(encoding="utf-8")))
    # Choices as people read them by default.
    assert rows == [
        ["Email", "Lifecycle stage"],
        ["c0@example.com", "Customer"],
        ["c1@example.com", "Customer"],
    ]
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.EXPORT)
    assert event.details["via"] == "command line" and event.details["rows"] == 2


def test_it_writes_choice_codes_when_asked_and_files_follow_the_umask(contacts, tmp_path):
    import os
    import stat

    out = tmp_path / "codes.csv"
    old = os.umask(0o022)
    try:
        call_command(
            "export_data",
            "contacts",
            "--format=csv",
            f"--output={out}",
            "--org=demo",
            "--filter=lifecycle_stage=customer",
            "--columns=email,lifecycle_stage",
            "--choice-codes",
            stdout=open("/dev/null", "w"),  # noqa: SIM115
        )
    finally:
        os.umask(old)
    assert [r[1] for r in csv.reader(out.open(encoding="utf-8"))] == [
        "Lifecycle stage",
        "customer",
        "customer",
    ]
    # A file a person asked for, not a private temporary one (mkstemp's 0600).
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_it_writes_xlsx_from_the_command_line(contacts, tmp_path):
    out = tmp_path / "all.xlsx"
    call_command(
        "export_data",
        "contacts",
        "--format",
        "xlsx",
        "--output",
        str(out),
        "--org",
        "demo",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    ws = load_workbook(out).active
    assert ws.max_row == 6
    assert "secret@rival.example" not in [c.value for c in ws["A"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["spaceships", "--format", "csv"], "Unknown resource 'spaceships'"),
        (["contacts", "--format", "docx"], "Unknown export format 'docx'"),
        (["contacts", "--format", "csv", "--columns", "email,shoe"], "Unknown column 'shoe'"),
        (["contacts", "--format", "csv", "--filter", "colour=red"], "Unknown filter 'colour'"),
        (["contacts", "--format", "csv", "--filter", "birth_date_from=soon"], "birth_date_from"),
        (["contacts", "--format", "csv", "--filter", "nonsense"], "name=value"),
        (["contacts", "--format", "csv", "--org", "nope"], "No organization with the slug 'nope'"),
    ],
)
def test_it_refuses_bad_input_with_a_clear_message(contacts, tmp_path, args, message):
    out = tmp_path / "x.out"
    with pytest.raises(CommandError, match=message):
        call_command("export_data", *args, "--output", str(out))
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_it_asks_for_the_organization_when_there_are_several(contacts, tmp_path):
    with pytest.raises(CommandError, match="--org"):
        call_command("export_data", "contacts", "--format", "csv", "--output", str(tmp_path / "x"))


def test_it_keeps_an_existing_file_when_the_pdf_limit_stops_the_export(
    contacts, tmp_path, settings
):
    settings.FERRY = {**settings.FERRY, "PDF_MAX_ROWS": 2}
    out = tmp_path / "keep.pdf"
    out.write_bytes(b"earlier file")
    with pytest.raises(CommandError, match="XLSX"):
        call_command(
            "export_data", "contacts", "--format", "pdf", "--output", str(out), "--org", "demo"
        )
    assert out.read_bytes() == b"earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pdf"]


def test_it_exits_1_with_the_message_on_stderr(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "export_data",
            "contacts",
            "--format",
            "docx",
            "--output",
            str(tmp_path / "x"),
        ],
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Unknown export format 'docx'" in result.stderr
