"""export_data and run_report as a real process on a terminal, and their --json answers.

See tests/wizard/test_cli_pty.py: ``call_command`` never draws the terminal progress, so the
commands are spawned on a pseudo-terminal against the test database.
"""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.factories import (
    ContactFactory,
    CustomerFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
)
from tests.wizard.test_cli_pty import one_json_object, run_on_pty, run_piped


@pytest.fixture
def contacts(transactional_db, org):
    for i in range(40):
        ContactFactory(organization=org, email=f"c{i}@example.com")


@pytest.fixture
def sale(transactional_db, org):
    customer = CustomerFactory(organization=org, code="C1")
    order = SalesOrderFactory(customer=customer, number="SO-1", order_date="2026-02-10")
    SalesOrderLineFactory(order=order, quantity=Decimal("4"), unit_price=Decimal("12.50"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_exports_on_a_terminal(contacts, org, tmp_path, fmt):
    out = tmp_path / f"contacts.{fmt}"
    code, screen = run_on_pty(
        "export_data", "contacts", "--format", fmt, "--output", str(out), "--org", org.slug
    )
    assert code == 0 and "Traceback" not in screen, screen
    assert "40 rows written" in screen
    assert "rows/s" in screen  # the progress line was drawn
    if fmt == "csv":
        with open(out, encoding="utf-8-sig", newline="") as fh:
            assert len(list(csv.reader(fh))) == 41
    else:
        assert len(list(load_workbook(out, read_only=True).active.iter_rows())) == 41


def test_it_runs_a_report_on_a_terminal(sale, org, tmp_path):
    out = tmp_path / "sales.xlsx"
    code, screen = run_on_pty(
        "run_report", "sales", "--format", "xlsx", "--output", str(out), "--org", org.slug
    )
    assert code == 0 and "Traceback" not in screen, screen
    assert "rows written to" in screen and out.exists()


def test_it_answers_json_for_an_export_and_a_report(contacts, sale, org, tmp_path):
    out = tmp_path / "c.json"
    code, stdout, err = run_piped(
        "export_data", "contacts", "--format", "json", "--output", str(out), "--json"
    )
    data = one_json_object(stdout)
    assert code == 0, err
    assert (data["status"], data["rows"], data["output"]) == ("completed", 40, str(out))
    code, stdout, err = run_piped(
        "run_report", "sales", "--format", "csv", "--output", str(tmp_path / "s.csv"), "--json"
    )
    data = one_json_object(stdout)
    assert code == 0, err
    assert data["status"] == "completed" and data["report"] == "sales"


@pytest.mark.parametrize(
    "args, code_name",
    [
        (["export_data", "contacts", "--json", "--output", "{out}"], "bad_arguments"),
        (["export_data", "contacts", "--json", "--format", "csv"], "bad_arguments"),
        (["export_data", "planets", "--json", "--format", "csv", "--output", "{out}"], "error"),
        (["export_data", "contacts", "--json", "--format", "doc", "--output", "{out}"], "error"),
        (["export_data", "contacts", "--json", "--format", "csv", "--output", "/no/dir/x.csv"], "error"),
        (["export_data", "contacts", "--json", "--format", "csv", "--output", "{out}", "--org", "nope"], "error"),
        (["run_report", "sales", "--json", "--format", "doc", "--output", "{out}"], "bad_arguments"),
        (["run_report", "nope", "--json", "--format", "csv", "--output", "{out}"], "error"),
        (["run_report", "sales", "--json", "--format", "csv", "--output", "{out}", "--param", "date_from=soon"], "error"),
    ],
)  # fmt: skip
def test_it_answers_one_json_object_with_exit_1_for_errors(
    contacts, org, tmp_path, args, code_name
):
    out = tmp_path / "out.csv"
    code, stdout, err = run_piped(*[a.replace("{out}", str(out)) for a in args])
    data = one_json_object(stdout)
    assert code == 1, (stdout, err)
    assert data["status"] == "error" and data["code"] == code_name and data["message"]
    assert not out.exists()


def test_it_keeps_the_plain_error_without_json(contacts, org, tmp_path):
    code, stdout, err = run_piped(
        "export_data", "planets", "--format", "csv", "--output", str(tmp_path / "x.csv")
    )
    # Without --json a person reads the reason on stderr; stdout stays empty.
    assert code == 1 and stdout == "" and "planets" in err
