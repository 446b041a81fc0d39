"""Report PDFs read back with pypdf: title, filters, summary first, then each table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pypdf import PdfReader

from business.models import AuditEvent
from jobs.errors import LimitExceeded
from tests.factories import (
    CreditTransactionFactory,
    CustomerFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    StockItemFactory,
    WarehouseFactory,
)
from tests.reports.test_ready_helpers import run


@pytest.fixture
def records(org, owner):
    warehouse = WarehouseFactory(organization=org, code="MAIN")
    customer = CustomerFactory(
        organization=org, code="C1", name="Harbour Café", email="a@b.example"
    )
    for n in range(3):
        order = SalesOrderFactory(
            customer=customer,
            number=f"SO-{n}",
            order_date=dt.date(2026, 3, 1 + n),
            warehouse=warehouse,
        )
        SalesOrderLineFactory(order=order, quantity=Decimal("2"), unit_price=Decimal("1234.50"))
    CreditTransactionFactory(customer=customer, amount=Decimal("500.00"), date=dt.date(2026, 1, 1))
    StockItemFactory(organization=org, warehouse=warehouse, quantity=Decimal("7"))
    AuditEvent.objects.create(
        organization=org,
        time=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
        user=owner,
        event_type="login",
    )


def pdf_text(path) -> tuple[str, list[str]]:
    pages = [p.extract_text() for p in PdfReader(path).pages]
    return "\n".join(pages), pages


@pytest.mark.parametrize(
    ("report", "params", "tables"),
    [
        ("sales", {"warehouse": "MAIN"}, ["Sales", "Line Items"]),
        (
            "customer-aging",
            {"as_of": "2026-03-31"},
            ["Customer Details", "Credit Aging", "Credit Transactions"],
        ),
        ("inventory-valuation", {}, ["Warehouses", "Stock Items"]),
        ("audit-log", {}, ["Events by Type", "Top Users", "Events"]),
    ],
)
def test_it_prints_the_summary_first_then_the_tables(
    org, records, tmp_path, report, params, tables
):
    path, _, _ = run(org, report, "pdf", tmp_path, params)
    text, pages = pdf_text(path)
    assert "Demo Trading Co." in pages[0]
    # The summary block comes first, then each table in order (each found after the last).
    position = text.index("Summary")
    for title in tables:
        position = text.index(title, position + 1)
    assert f"Page 1 of {len(pages)}" in pages[0]
    if params:
        assert "Warehouse or store: MAIN" in text or "As of: 2026-03-31" in text


def test_it_prints_amounts_with_cents_and_leaves_spreadsheet_only_columns_out(
    org, records, tmp_path
):
    path, _, _ = run(org, "sales", "pdf", tmp_path)
    text, _ = pdf_text(path)
    assert "7,407.00" in text  # revenue: 3 × 2 × 1,234.50
    assert "2,469.00" in text
    # The PDF's sales table is the printable selection; the spreadsheet has every column.
    assert "Customer code" not in text and "Harbour Café" in text
    xlsx, _, _ = run(org, "sales", "xlsx", tmp_path)
    from tests.reports.test_ready_helpers import read_xlsx

    assert "Customer code" in read_xlsx(xlsx)["Sales"][0]


def test_it_refuses_a_pdf_beyond_the_row_limit_and_leaves_no_file(org, records, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "PDF_MAX_ROWS": 4}
    with pytest.raises(LimitExceeded) as exc:
        run(org, "sales", "pdf", tmp_path)
    assert "XLSX" in exc.value.message
    assert not (tmp_path / "sales.pdf").exists()


def test_it_ends_tables_with_totals_in_the_organizations_currency_and_locale(
    org, records, tmp_path
):
    org.currency, org.locale = "EUR", "de-DE"
    org.save()
    path, _, _ = run(org, "sales", "pdf", tmp_path)
    text, _ = pdf_text(path)
    # Money columns name the currency; numbers and dates follow the organization's locale.
    assert "Revenue (EUR)" in text
    assert "2.469,00" in text and "01.03.2026" in text
    # Each table ends with a totals row: 3 orders of 2,469.00 revenue.
    assert "Total" in text and "7.407,00" in text
    xlsx, _, _ = run(org, "sales", "xlsx", tmp_path)
    from openpyxl import load_workbook

    ws = load_workbook(xlsx)["Sales"]
    revenue = [c.column_letter for c in ws[1] if c.value == "Revenue"][0]
    assert ws[f"{revenue}2"].number_format == '"€"#,##0.00'


def test_it_prints_the_audit_details_as_text_not_json(org, owner, tmp_path):
    AuditEvent.objects.create(
        organization=org,
        time=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
        user=owner,
        event_type="report",
        details={"format": "pdf", "job": 45, "params": {"date_from": "2026-01-01"}},
    )
    from tests.reports.test_ready_helpers import read_xlsx, xlsx_table

    path, _, _ = run(org, "audit-log", "xlsx", tmp_path)
    events = xlsx_table(read_xlsx(path)["Events"])
    assert events[0]["Details"] == "Format: pdf · Job: 45 · Params: date from 2026-01-01"


def test_it_prints_a_resource_exports_title_once_and_keeps_codes_whole(
    org, owner, tmp_path, settings
):
    from reports.exporters import NullProgress, export_render

    settings.MEDIA_ROOT = tmp_path
    WarehouseFactory(organization=org, code="WH-SOUTH-LONGCODE", name="South " * 12)
    path = tmp_path / "w.pdf"
    export_render(
        organization=org,
        exporter="warehouses",
        format="pdf",
        params={},
        path=path,
        progress=NullProgress(),
    )
    text, pages = pdf_text(path)
    # The document's title and the page footer, not again over the table.
    assert text.count("Warehouses") == 2 and "Demo Trading Co. · Warehouses ·" in text
    assert "WH-SOUTH-LONGCODE" in text  # on one line: not "WH-SOUTH-" / "LONGCODE"
