"""``manage.py run_report``: every format to a file, parameters, organizations, clear errors."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from business.models import AuditEvent
from tests.factories import CustomerFactory, SalesOrderFactory, SalesOrderLineFactory
from tests.reports.test_ready_helpers import read_csv_sections, read_xlsx, xlsx_table, xlsx_totals


@pytest.fixture
def sale(org):
    customer = CustomerFactory(organization=org, code="C1")
    order = SalesOrderFactory(customer=customer, number="SO-1", order_date="2026-02-10")
    SalesOrderLineFactory(order=order, quantity=Decimal("4"), unit_price=Decimal("12.50"))
    cancelled = SalesOrderFactory(
        customer=customer, number="SO-2", order_date="2026-02-11", status="cancelled"
    )
    SalesOrderLineFactory(order=cancelled, quantity=Decimal("1"), unit_price=Decimal("99.00"))
    return order


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("run_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_writes_a_json_report_and_prints_the_key_figures(org, other_org, sale, tmp_path):
    target = tmp_path / "sales.json"
    out, _ = run("sales", "--format", "json", "--output", str(target), "--org", "demo")
    data = json.loads(target.read_text(), parse_float=Decimal)
    assert data["summary"]["Revenue (net of discounts, before tax)"] == Decimal("50.00")
    assert "Revenue (net of discounts, before tax): 50.00" in out
    assert AuditEvent.objects.get(event_type="report").details["via"] == "command line"


def test_it_passes_params_including_repeated_ones(org, other_org, sale, tmp_path):
    target = tmp_path / "sales.xlsx"
    run(
        "sales",
        "--format=xlsx",
        f"--output={target}",
        "--org=demo",
        "--param",
        "status=confirmed",
        "--param",
        "status=cancelled",
        "--param",
        "date_from=2026-02-01",
    )
    sheets = read_xlsx(target)
    assert list(sheets) == ["Summary", "Sales", "Line Items"]
    assert len(xlsx_table(sheets["Sales"])) == 2  # both orders
    assert xlsx_totals(sheets["Sales"])["Revenue"] == "=SUBTOTAL(109,K2:K3)"


def test_it_writes_csv_and_pdf(org, other_org, sale, tmp_path):
    from pypdf import PdfReader

    run("sales", "--format", "csv", "--output", str(tmp_path / "s.csv"), "--org", "demo")
    assert list(read_csv_sections(tmp_path / "s.csv")) == ["Summary", "Sales", "Line Items"]
    run(
        "inventory-valuation",
        "--format",
        "pdf",
        "--output",
        str(tmp_path / "i.pdf"),
        "--org",
        "demo",
    )
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "i.pdf").pages)
    assert "Inventory valuation" in text and "Value at cost" in text


def test_it_picks_the_only_organization_without_org(org, tmp_path):
    CustomerFactory(organization=org, code="ONLY")
    run("customer-aging", "--format", "json", "--output", str(tmp_path / "a.json"), "--quiet")
    assert "Customer Details" in json.loads((tmp_path / "a.json").read_text())


def test_it_needs_org_when_there_are_several(org, other_org, tmp_path):
    with pytest.raises(CommandError, match="pass --org .*demo, rival"):
        run("sales", "--format", "csv", "--output", str(tmp_path / "x.csv"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["profit", "--format", "csv"], "Unknown report 'profit'"),
        (["sales", "--format", "csv", "--org", "nope"], "No organization with the slug 'nope'"),
        (["sales", "--format", "csv", "--param", "date_from"], "not of the form name=value"),
        (
            ["sales", "--format", "csv", "--param", "date_from=31/02/2026"],
            "date_from: .31/02/2026. is not a date",
        ),
        (["sales", "--format", "csv", "--param", "shop=MAIN"], "shop: Unknown parameter 'shop'"),
    ],
)
def test_it_explains_bad_input_and_leaves_no_file(org, other_org, tmp_path, args, message):
    target = tmp_path / "out.csv"
    if "--org" not in args:
        args = [*args, "--org", "demo"]
    with pytest.raises(CommandError, match=message):
        run(*args, "--output", str(target))
    assert list(tmp_path.iterdir()) == []


def test_it_keeps_an_earlier_file_when_a_run_fails(org, tmp_path):
    target = tmp_path / "keep.csv"
    target.write_text("earlier report")
    with pytest.raises(CommandError):
        run("sales", "--format", "csv", "--output", str(target), "--param", "customer=NOPE")
    assert target.read_text() == "earlier report"
