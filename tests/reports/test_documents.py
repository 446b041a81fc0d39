"""Business documents: totals, PDFs read back, permissions, org scoping, batches in a worker."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from business.models import AuditEvent
from jobs.models import DataJob
from reports.documents import services as doc_services
from reports.documents.kinds import DeliveryNote, Invoice, PickingList, Quote
from reports.documents.selectors import documents_orders, order_document
from reports.documents.services import (
    DocumentTemplateError,
    document_render,
    documents_batch_render,
    documents_batch_start,
)
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    StockItemFactory,
    WarehouseFactory,
)

CENT = Decimal("0.01")
LINES = [
    # quantity, unit price, discount, tax rate (%)
    (Decimal("3"), Decimal("19.99"), Decimal("0"), Decimal("20")),
    (Decimal("2.5"), Decimal("4.333"), Decimal("1.10"), Decimal("20")),
    (Decimal("7"), Decimal("0.35"), Decimal("0"), Decimal("5")),
    (Decimal("1"), Decimal("125.00"), Decimal("12.50"), Decimal("0")),
]


def r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def text_of(pdf: bytes | str) -> str:
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    return "\n".join(page.extract_text() for page in reader.pages)


def _order(org, *, number="SO-1001", lines=LINES, warehouse=None):
    customer = CustomerFactory(
        organization=org,
        name="Harbour Builders",
        address="12 Quay Side",
        postal_code="LS1 4AP",
        city="Leeds",
        country="United Kingdom",
    )
    order = SalesOrderFactory(customer=customer, number=number, warehouse=warehouse)
    for n, (qty, price, discount, rate) in enumerate(lines, start=1):
        product = ProductFactory(organization=org, sku=f"{number}-P{n}", name=f"Widget {n}")
        net = r2(qty * price) - discount
        SalesOrderLineFactory(
            order=order,
            line_number=n,
            product=product,
            quantity=qty,
            unit_price=price,
            discount=discount,
            tax=r2(net * rate / 100),
            tax_rate=rate,
        )
    return order


@pytest.fixture
def billing_org(org):
    org.address_line1 = "Unit 4, Canal Wharf"
    org.postal_code = "LS12 1BE"
    org.city = "Leeds"
    org.country = "United Kingdom"
    org.vat_number = "GB 123 4567 89"
    org.currency = "GBP"
    org.locale = "en-GB"
    org.save()
    return org


@pytest.mark.django_db
def test_it_totals_an_invoice_per_tax_rate_with_discounts_and_rounding(billing_org):
    order = _order(billing_org)
    expected: dict[Decimal, list[Decimal]] = {}
    for qty, price, discount, rate in LINES:
        net = r2(qty * price) - discount
        band = expected.setdefault(rate, [Decimal(0), Decimal(0)])
        band[0] += net
        band[1] += r2(net * rate / 100)
    net_total = sum(b[0] for b in expected.values())
    tax_total = sum(b[1] for b in expected.values())
    # 59.97 + (10.83 - 1.10) + 2.45 + (125.00 - 12.50)
    assert net_total == Decimal("184.65")
    assert tax_total == Decimal("14.06")

    doc = order_document(
        order=documents_orders(organization=billing_org).get(pk=order.pk),
        document=Invoice,
        currency="GBP",
    )
    assert doc.net_total == net_total and doc.tax_total == tax_total
    assert doc.grand_total == net_total + tax_total == Decimal("198.71")
    assert [(b.rate, b.net, b.tax) for b in doc.bands] == [
        (rate, *expected[rate]) for rate in sorted(expected)
    ]

    text = text_of(document_render(organization=billing_org, order=order, document=Invoice))
    assert "Invoice" in text and "SO-1001" in text
    assert "£198.71" in text and "£184.65" in text and "£14.06" in text
    assert "Tax 20% on £69.70" in text and "Tax 5% on £2.45" in text
    assert "Harbour Builders" in text and "LS1 4AP Leeds" in text
    assert "GB 123 4567 89" in text and "Page 1 of 1" in text


@pytest.mark.django_db
def test_it_prints_in_the_organizations_currency_and_locale(billing_org):
    billing_org.currency, billing_org.locale = "EUR", "de-DE"
    billing_org.save()
    order = _order(billing_org, lines=[(Decimal("1000"), Decimal("1.5"), Decimal(0), Decimal(19))])
    text = text_of(document_render(organization=billing_org, order=order, document=Quote))
    assert "1.785,00\u00a0€" in text or "1.785,00 €" in text
    assert "Valid until" in text


@pytest.mark.django_db
def test_it_repeats_table_headers_and_numbers_pages_on_a_long_order(billing_org):
    lines = [(Decimal(i % 5 + 1), Decimal("9.95"), Decimal(0), Decimal(20)) for i in range(70)]
    order = _order(billing_org, lines=lines)
    reader = PdfReader(
        io.BytesIO(document_render(organization=billing_org, order=order, document=Invoice))
    )
    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        assert "unit price" in text.lower()  # the header row on every page


@pytest.mark.django_db
def test_it_leaves_prices_off_delivery_notes_and_groups_picking_lists_by_location(billing_org):
    warehouse = WarehouseFactory(organization=billing_org, code="LDS", name="Leeds DC")
    order = _order(billing_org, warehouse=warehouse)
    for n, location in enumerate(["B07-2", "A01-1", "B07-4", ""], start=1):
        product = order.lines.get(line_number=n).product
        StockItemFactory(
            organization=billing_org, product=product, warehouse=warehouse, location=location
        )
    note = text_of(document_render(organization=billing_org, order=order, document=DeliveryNote))
    assert "Delivery note" in note and "SO-1001-P2" in note
    assert "£" not in note and "19.99" not in note and "unit price" not in note.lower()
    picking = text_of(document_render(organization=billing_org, order=order, document=PickingList))
    assert "£" not in picking and "19.99" not in picking
    # Groups in walking order: A01, then B07 (two bins), then lines with no bin.
    positions = [picking.index(s) for s in ("Location A01", "Location B07", "No location")]
    assert positions == sorted(positions)
    assert picking.index("B07-2") < picking.index("B07-4")


@pytest.mark.django_db
def test_it_downloads_one_document_and_hides_another_organizations_order(
    billing_org, owner_client, other_org, client_for, other_user
):
    order = _order(billing_org)
    url = reverse("documents:download", args=[order.pk, "invoice"])
    response = owner_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="invoice-SO-1001.pdf"' in response["Content-Disposition"]
    assert "£198.71" in text_of(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    assert client_for(other_user).get(url).status_code == 404
    assert AuditEvent.objects.filter(organization=billing_org, object_type="document").count() == 1
    assert (
        owner_client.get(reverse("documents:download", args=[order.pk, "receipt"])).status_code
        == 404
    )


@pytest.mark.django_db
def test_it_lets_warehouse_staff_print_delivery_notes_but_not_invoices(
    billing_org, member_client, viewer_client
):
    order = _order(billing_org)
    assert (
        member_client.get(reverse("documents:download", args=[order.pk, "invoice"])).status_code
        == 403
    )
    assert (
        member_client.get(
            reverse("documents:download", args=[order.pk, "picking_list"])
        ).status_code
        == 200
    )
    assert (
        viewer_client.get(
            reverse("documents:download", args=[order.pk, "delivery_note"])
        ).status_code
        == 403
    )


@pytest.mark.django_db
def test_it_shows_a_pdf_menu_per_order_and_a_batch_panel_on_the_orders_page(
    billing_org, owner_client
):
    order = _order(billing_org)
    page = owner_client.get("/records/sales-orders/").content.decode()
    assert reverse("documents:download", args=[order.pk, "invoice"]) in page
    assert 'id="documents-batch"' in page and f'name="ids" value="{order.pk}"' in page


class _Progress:
    def __init__(self):
        self.total = None
        self.processed = 0

    def set_total(self, total):
        self.total = total

    def update(self, *, processed, force=False, **counts):
        self.processed = processed

    def check_cancel(self, *, force=False):
        return None


@pytest.mark.django_db
def test_it_fails_a_broken_template_naming_its_line_and_writes_no_file(
    billing_org, settings, tmp_path
):
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "invoice.html").write_text(
        '{% extends "documents/base.html" %}\n{% block body %}\n<p>ok</p>\n{% if %}\n{% endblock %}\n'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    doc_services._engine.cache_clear()
    try:
        _order(billing_org)
        out = tmp_path / "invoices.zip"
        with pytest.raises(DocumentTemplateError) as caught:
            documents_batch_render(
                organization=billing_org,
                orders=documents_orders(organization=billing_org),
                document=Invoice,
                mode="zip",
                path=out,
                progress=_Progress(),
                workers=1,
            )
        assert re.search(r"documents/invoice\.html, line 4", caught.value.message)
        assert not out.exists()
    finally:
        doc_services._engine.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_it_prints_a_batch_in_a_worker_one_pdf_per_order_in_a_zip_and_merged(
    billing_org, owner, other_user, other_org, huey_consumer, job_waiter
):
    orders = [_order(billing_org, number=f"SO-2{n:03d}") for n in range(6)]
    foreign = _order(other_org, number="SO-9999")
    job = documents_batch_start(
        organization=billing_org,
        user=owner,
        document=Invoice,
        format="zip",
        params={"ids": [o.pk for o in orders] + [foreign.pk]},
    )
    job = job_waiter(job)
    assert job.status == DataJob.Status.COMPLETED, (
        job.error_message,
        huey_consumer.log_path.read_text(),
    )
    with job.output_file.open("rb") as fh, zipfile.ZipFile(fh) as archive:
        names = sorted(archive.namelist())
        assert names == [f"invoice-SO-2{n:03d}.pdf" for n in range(6)]
        for name in names:
            pdf = archive.read(name)
            assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
            assert "£198.71" in text_of(pdf)
    assert job.summary["orders"] == 6 and job.summary["pages"] == 6

    assert job.target_label == "Invoices"
    merged = documents_batch_start(
        organization=billing_org,
        user=owner,
        document=DeliveryNote,
        format="pdf",
        params={"filters": {}},
    )
    merged = job_waiter(merged)
    assert merged.status == DataJob.Status.COMPLETED, merged.error_message
    assert merged.output_filename.endswith(".pdf")
    with merged.output_file.open("rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
        assert len(reader.pages) == 6
        assert "SO-9999" not in "".join(p.extract_text() for p in reader.pages)
    assert AuditEvent.objects.filter(organization=billing_org, object_type="document").count() == 2
