"""Documents on a schedule: "every evening, the picking lists of tomorrow's orders to the
warehouse mailbox" — through the schedules' service path and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from pypdf import PdfReader

from reports.schedules.services import ScheduleInvalid
from tests.reports.schedules.conftest import parts

pytestmark = pytest.mark.django_db


@pytest.fixture
def tomorrows_orders(org, other_org):
    # The run resolves "tomorrow" in the schedule's zone (Europe/Zurich); the test runs on
    # UTC dates, so the orders are dated by the same clock the run uses.
    from django.utils import timezone

    from reports.schedules.recurrence import zone_get
    from tests.factories import (
        CustomerFactory,
        ProductFactory,
        SalesOrderFactory,
        SalesOrderLineFactory,
    )

    today = timezone.now().astimezone(zone_get("Europe/Zurich")).date()
    tomorrow = today + dt.timedelta(days=1)
    customer = CustomerFactory(organization=org, name="Harbour Builders")
    for number, day in [("SO-T1", tomorrow), ("SO-T2", tomorrow), ("SO-T0", today)]:
        order = SalesOrderFactory(customer=customer, number=number, order_date=day)
        SalesOrderLineFactory(
            order=order,
            product=ProductFactory(organization=org, sku=f"{number}-A"),
            quantity=Decimal("3"),
        )
    foreign = CustomerFactory(organization=other_org)
    SalesOrderFactory(customer=foreign, number="SO-X1", order_date=tomorrow)
    return tomorrow


def test_it_mails_tomorrows_picking_lists_as_a_zip_and_a_merged_pdf(
    make_schedule, run_now, smtp, tomorrows_orders
):
    schedule = make_schedule(
        name="Tomorrow's picking",
        exporter="picking_list",
        period="tomorrow",
        formats=["zip", "pdf"],
        frequency="daily",
        run_time="18:00",
        recipients=["warehouse@example.com"],
        cc=[],
        bcc=[],
        subject="{report} for {period}",
    )
    run = run_now(schedule)
    assert run.status == "emailed", run.error_message
    assert run.period_text == tomorrows_orders.isoformat()
    [msg] = smtp.wait(1)
    assert "warehouse@example.com" in msg.envelope_to  # and the owner, as every schedule
    assert msg["Subject"] == f"Picking list for {tomorrows_orders.isoformat()}"
    attachments = parts(msg)["attachments"]
    archive_name = next(n for n in attachments if n.endswith(".zip"))
    with zipfile.ZipFile(io.BytesIO(attachments[archive_name])) as archive:
        # Only tomorrow's orders of this organization, one PDF each.
        assert sorted(archive.namelist()) == ["picking-list-SO-T1.pdf", "picking-list-SO-T2.pdf"]
        for name in archive.namelist():
            text = PdfReader(io.BytesIO(archive.read(name))).pages[0].extract_text()
            assert "Picking list" in text and "Page 1 of 1" in text
    merged = PdfReader(io.BytesIO(attachments[next(n for n in attachments if n.endswith(".pdf"))]))
    assert len(merged.pages) == 2
    assert [item.title for item in merged.outline] == ["picking-list-SO-T1", "picking-list-SO-T2"]
    assert run.rows == 2
    assert sorted(f.format for f in run.files.all()) == ["pdf", "zip"]


def test_it_refuses_a_spreadsheet_of_documents_and_a_zip_of_a_report(make_schedule):
    with pytest.raises(ScheduleInvalid) as caught:
        make_schedule(exporter="invoice", formats=["xlsx"])
    assert "formats" in caught.value.errors
    with pytest.raises(ScheduleInvalid) as caught:
        make_schedule(exporter="sales", formats=["zip"])
    assert "formats" in caught.value.errors


def test_it_refuses_invoices_to_an_owner_who_may_not_print_them(make_schedule, manager, org):
    from accounts.models import Membership

    Membership.objects.filter(user=manager, organization=org).update(
        revoked_permissions=["can_print_invoice"]
    )
    with pytest.raises(ScheduleInvalid) as caught:
        make_schedule(exporter="invoice", formats=["pdf"])
    assert "can_print_invoice" in str(caught.value.errors)
    assert make_schedule(exporter="picking_list", formats=["pdf"]).exporter == "picking_list"


def test_it_sends_an_empty_zip_rather_than_failing_on_a_day_without_orders(
    make_schedule, run_now, smtp, org
):
    run = run_now(make_schedule(exporter="delivery_note", period="tomorrow", formats=["zip"]))
    assert run.status == "emailed", run.error_message
    assert run.rows == 0
    [msg] = smtp.wait(1)
    [(name, content)] = parts(msg)["attachments"].items()
    assert name.endswith(".zip") and zipfile.ZipFile(io.BytesIO(content)).namelist() == []
