"""The preview's choices a file calls for (issue 11): which row wins when rows repeat a key
with other values, rounding money with too many decimals, reading bare numbers as Excel dates.
Through the pages, with the preview run in-process as the worker would run it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from business.models import Customer
from jobs.models import DataJob
from tests.wizard import realfiles
from tests.wizard.test_engine import media_in_tmp  # noqa: F401
from tests.wizard.test_wizard_views import preview_ready, run_now, start, url

pytestmark = pytest.mark.django_db


def csv_upload(path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")


def latest_preview(job: DataJob) -> DataJob:
    job.refresh_from_db()
    return DataJob.objects.get(pk=job.params["preview_job_id"])


def test_it_offers_which_repeated_row_wins_and_checks_the_file_again(member_client, tmp_path):
    built = realfiles.customers_with_conflicts(tmp_path, customers=60, repeats=40, conflicts=4)
    job = preview_ready(
        member_client, start(member_client, resource="customers", file=csv_upload(built.path))
    )
    page = member_client.get(url("preview", job)).content.decode()
    assert "Choices this file needs" in page
    assert "Rows that repeat a key with other values" in page
    assert "4 rows repeat an earlier row&#x27;s key with other values" in page
    assert "Repeats merged" in page  # the 40 identical repeats, counted apart
    response = member_client.post(
        url("preview_setting", job), {"setting": "repeats", "value": "last"}
    )
    assert response.status_code == 302
    preview = run_now(latest_preview(job))
    s = preview.summary
    assert (s["repeats"], s["invalid"], s["repeats_conflicting"]) == ("last", 0, 4)
    page = member_client.get(url("preview", job)).content.decode()
    assert 'value="last" checked' in page
    # The real run keeps the last row's phone of each conflict.
    member_client.post(url("run", job), {"on_duplicate": "skip", "mode": "skip-invalid"})
    run_now(DataJob.objects.get(pk=job.pk))
    for code, (_, _, _, new) in built.notes["conflicts"].items():
        assert Customer.objects.get(code=code).phone == new


def test_it_offers_rounding_in_one_line_not_row_by_row(member_client, org, tmp_path):
    from tests.factories import CustomerFactory, ProductFactory, SalesOrderFactory

    built = realfiles.erp_order_details(tmp_path, orders=60, three_decimals=True)
    customer = CustomerFactory(organization=org, code="NW")
    for sku in built.notes["skus"]:
        ProductFactory(organization=org, sku=sku)
    for number in built.notes["orders"]:
        SalesOrderFactory(organization=org, number=number, customer=customer)
    job = start(member_client, resource="sales-order-lines", file=csv_upload(built.path))
    job = preview_ready(member_client, job)
    rows = len(built.rows)
    page = member_client.get(url("preview", job)).content.decode()
    assert "Amounts with more decimals than the field keeps" in page
    assert f"{rows:,} values in &#x27;UnitPrice&#x27; have more than 2 decimal places" in page
    member_client.post(url("preview_setting", job), {"setting": "rounding", "value": "half-even"})
    preview = run_now(latest_preview(job))
    assert (preview.summary["invalid"], preview.summary["rounded"]) == (0, {"unit_price": rows})


def test_it_offers_excel_dates_and_takes_them_back(member_client, tmp_path):
    built = realfiles.contacts_with_serial_birth_dates(tmp_path, rows=50, xlsx=True)
    upload = SimpleUploadedFile(built.path.name, built.path.read_bytes())
    job = preview_ready(member_client, start(member_client, file=upload))
    assert job.params["mapping"]["Date of Birth"] == "birth_date"
    page = member_client.get(url("preview", job)).content.decode()
    assert "Numbers in &#x27;Date of Birth&#x27;" in page and "Excel dates (1900 system)" in page
    member_client.post(
        url("preview_setting", job),
        {"setting": "date_format", "field": "birth_date", "value": "excel-1900"},
    )
    preview = run_now(latest_preview(job))
    assert preview.summary["invalid"] == 0
    member_client.post(
        url("preview_setting", job), {"setting": "date_format", "field": "birth_date", "value": ""}
    )
    preview = run_now(latest_preview(job))
    assert preview.summary["invalid"] == 50


def test_it_keeps_another_organizations_draft_out_of_reach(
    member_client, other_org, other_user, tmp_path
):
    from wizard.services import import_create

    built = realfiles.customers_with_conflicts(tmp_path, customers=5, repeats=2, conflicts=1)
    with open(built.path, "rb") as fh:
        theirs = import_create(
            organization=other_org, user=other_user, resource="customers", file=fh, filename="c.csv"
        )
    response = member_client.post(
        url("preview_setting", theirs), {"setting": "repeats", "value": "last"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.params.get("repeats", "fail") == "fail"
