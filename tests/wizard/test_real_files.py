"""Issue 11, the files people really have: repeated keys, order lines without line numbers,
more decimals than the field, bare Excel serial dates, contacts without an e-mail.

Each case goes through the public doors: the wizard's services (what the pages and the worker
call), ``manage.py import_data`` (``--json`` included) and the API's start endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError

from business.models import Account, Contact, Customer, SalesOrderLine
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_run
from tests.api.conftest import make_token, token_client
from tests.factories import (
    AccountFactory,
    ContactFactory,
    CustomerFactory,
    ProductFactory,
    SalesOrderFactory,
)
from tests.wizard import realfiles
from tests.wizard.test_engine import draft, log_messages, media_in_tmp  # noqa: F401
from tests.wizard.test_import_cli import cli
from wizard.models import ImportRow
from wizard.services import import_configure, import_preview_start, import_run, import_run_now

pytestmark = pytest.mark.django_db


def run(org, user, resource, path, **configure) -> DataJob:
    return import_run_now(job=draft(org, user, resource, path, **configure))


def preview(org, user, resource, path, **configure) -> tuple[DataJob, DataJob]:
    """The wizard's preview: a dry run whose rows land on the draft."""
    job = draft(org, user, resource, path, **configure)
    child = import_preview_start(job=job)
    job_run(child.pk, lambda j, progress: import_run(job=j, progress=progress))
    child.refresh_from_db()
    job.refresh_from_db()
    return job, child


def problem(summary: dict, kind: str) -> dict:
    found = [p for p in summary.get("problems") or [] if p["kind"] == kind]
    assert len(found) == 1, summary.get("problems")
    return found[0]


# --- 1. repeated keys ---------------------------------------------------------------------------


def test_it_merges_customers_a_sales_export_repeats_identically(org, owner, tmp_path):
    built = realfiles.retail_sales_export(tmp_path)
    job = run(org, owner, "customers", built.path, mapping=realfiles.CUSTOMER_MAPPING)
    s = job.summary
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    customers = built.notes["customers"]
    assert s["total"] == 10_000
    assert (s["created"], s["failed"]) == (customers, 0)
    assert s["repeats_merged"] == 10_000 - customers
    assert s["repeats_conflicting"] == 0
    assert Customer.objects.filter(organization=org).count() == customers
    sample = next(iter(built.expected.items()))
    got = Customer.objects.get(organization=org, code=sample[0])
    assert (got.name, got.city, got.postal_code) == tuple(sample[1].values())
    # Merged repeats are no failures: no row log, no failed-rows file.
    assert not JobLogEntry.objects.filter(job=job, level="error").exists()
    assert "failed-rows" not in (s.get("files") or {})


def test_it_fails_conflicting_repeats_by_default_and_names_rows_and_columns(org, owner, tmp_path):
    built = realfiles.customers_with_conflicts(tmp_path)
    job = run(org, owner, "customers", built.path)
    s = job.summary
    conflicts = built.notes["conflicts"]
    assert s["repeats"] == "fail"
    assert s["repeats_conflicting"] == len(conflicts) == s["failed"]
    assert s["repeats_merged"] == 2_000
    assert s["created"] == 1_500
    code, (first_row, row, old, new) = sorted(conflicts.items(), key=lambda c: c[1][1])[0]
    entry = JobLogEntry.objects.get(job=job, row_number=row, level="error")
    assert entry.column == "Phone" and entry.value == new
    assert entry.message == (
        f"Row {row}, column 'Phone': customer code '{code}' is also on row {first_row} "
        f"with another phone: '{old}' there, '{new}' here (choose which row wins: "
        "repeats first or last)"
    )
    assert Customer.objects.get(organization=org, code=code).phone == old


@pytest.mark.parametrize("policy", ["first", "last"])
def test_it_resolves_conflicting_repeats_first_or_last(org, owner, tmp_path, settings, policy):
    # Small batches: most conflicts repeat a record an earlier batch wrote.
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 500}
    built = realfiles.customers_with_conflicts(tmp_path)
    job = run(org, owner, "customers", built.path, repeats=policy)
    s = job.summary
    conflicts = built.notes["conflicts"]
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    assert (s["created"], s["failed"], s["updated"]) == (1_500, 0, 0)
    assert s["repeats_merged"] == 2_000
    assert s["repeats_conflicting"] == len(conflicts)
    assert s["repeats"] == policy
    for code, (_, row, old, new) in conflicts.items():
        phone = Customer.objects.get(organization=org, code=code).phone
        assert phone == (old if policy == "first" else new), (code, row)
    # The side by side stays in the log, as a warning naming both rows.
    code, (first_row, row, old, new) = next(iter(conflicts.items()))
    warning = JobLogEntry.objects.get(job=job, row_number=row, level="warning")
    assert f"also on row {first_row}" in warning.message and f"'{old}' there, '{new}' here" in (
        warning.message
    )
    # Undo removes exactly what the run created.
    from wizard.services import import_undo

    import_undo(job=job, user=owner)
    assert not Customer.objects.filter(organization=org).exists()


def test_it_previews_repeats_as_merged_rows_and_conflicts_side_by_side(org, owner, tmp_path):
    path = realfiles.write_csv(
        tmp_path / "c.csv",
        ["Customer Number", "Customer Name", "Phone"],
        [
            ["C1", "Acme", "111"],
            ["C2", "Beta", "222"],
            ["C1", "Acme", "111"],
            ["C1", "Acme", "999"],
        ],
    )
    job, child = preview(org, owner, "customers", path)
    rows = {r.row_number: r for r in ImportRow.objects.filter(job=job)}
    assert rows[4].status == ImportRow.Status.MERGED
    assert rows[5].status == ImportRow.Status.INVALID
    assert rows[5].errors["Phone"] == [
        "customer code 'C1' is also on row 2 with another phone: '111' there, '999' here "
        "(choose which row wins: repeats first or last)"
    ]
    s = child.summary
    assert (s["would_create"], s["repeats_merged"], s["repeats_conflicting"]) == (2, 1, 1)
    # The wizard's choice: the next preview takes the last row's phone.
    job = import_configure(job=job, repeats="last")
    assert job.params["repeats"] == "last"


def test_it_takes_repeats_from_the_command_line_and_reports_them_in_json(org, owner, tmp_path):
    built = realfiles.customers_with_conflicts(tmp_path, customers=300, repeats=400, conflicts=5)
    code, out, err = cli("import_data", "customers", str(built.path), "--repeats", "last", "--json")
    body = json.loads(out)
    assert code == 0, (out, err)
    assert (body["created"], body["failed"]) == (300, 0)
    assert body["repeats_merged"] == 400 and body["repeats_conflicting"] == 5
    assert body["repeats"] == "last"
    with pytest.raises(CommandError, match="--repeats: invalid choice: 'sometimes'"):
        cli("import_data", "customers", str(built.path), "--repeats", "sometimes")


def test_it_prints_merged_repeats_in_the_readable_report(org, owner, tmp_path):
    built = realfiles.retail_sales_export(tmp_path, lines=1_200, customers=100)
    code, out, err = cli(
        "import_data",
        "customers",
        str(built.path),
        *[f"--map={h}={f}" for h, f in realfiles.CUSTOMER_MAPPING.items()],
    )
    assert code == 0, (out, err)
    customers = built.notes["customers"]
    assert f"{1_200 - customers:,} repeats merged (same values as an earlier row)" in out


def test_it_takes_repeats_rounding_and_date_formats_through_the_api(org, member, tmp_path):
    api = token_client(make_token(member, org))
    built = realfiles.customers_with_conflicts(tmp_path, customers=50, repeats=30, conflicts=3)
    response = api.post(
        "/api/v1/customers/import/",
        {
            "file": SimpleUploadedFile("c.csv", built.path.read_bytes()),
            "repeats": "first",
            "rounding": "half-even",
            "date_formats": '{"credit_limit": "excel-1900"}',
        },
        format="multipart",
    )
    # A date format for a field that is no date is refused with the field named.
    assert response.status_code == 400, response.json()
    assert "credit_limit" in json.dumps(response.json())
    response = api.post(
        "/api/v1/customers/import/",
        {
            "file": SimpleUploadedFile("c.csv", built.path.read_bytes()),
            "repeats": "first",
            "rounding": "half-even",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    job = DataJob.objects.get(pk=response.json()["job_id"])
    assert (job.params["repeats"], job.params["rounding"]) == ("first", "half-even")
    # The test transaction never commits, so no worker takes it: run it here.
    job_run(job.pk, lambda j, progress: import_run(job=j, progress=progress))
    body = api.get(response.json()["url"]).json()
    assert body["status"] == "completed", body
    assert body["summary"]["repeats_merged"] == 30
    assert body["summary"]["repeats_conflicting"] == 3
    assert body["counts"]["failed"] == 0
    bad = api.post(
        "/api/v1/customers/import/",
        {"file": SimpleUploadedFile("c.csv", built.path.read_bytes()), "repeats": "maybe"},
        format="multipart",
    )
    assert bad.status_code == 400
    assert bad.json()["details"] == {"repeats": ['"maybe" is not a valid choice.']}


# --- 4. order lines without a line number --------------------------------------------------------


@pytest.fixture
def erp(org, tmp_path):
    """The order-detail file and the orders and products it refers to."""

    def build(**kw):
        built = realfiles.erp_order_details(tmp_path, **kw)
        customer = CustomerFactory(organization=org, code="NW")
        for sku in built.notes["skus"]:
            ProductFactory(organization=org, sku=sku)
        for number in built.notes["orders"]:
            SalesOrderFactory(organization=org, number=number, customer=customer)
        return built

    return build


def test_it_numbers_order_lines_per_order_in_file_order(org, owner, erp):
    built = erp()
    job = run(org, owner, "sales-order-lines", built.path, mapping=realfiles.ORDER_DETAIL_MAPPING)
    s = job.summary
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    assert (s["created"], s["failed"]) == (len(built.rows), 0)
    assert len(built.rows) > 2_000
    lines = {
        (line.order.number, line.line_number): line
        for line in SalesOrderLine.objects.filter(organization=org).select_related(
            "order", "product"
        )
    }
    assert set(lines) == set(built.expected)
    for key, want in list(built.expected.items())[:300]:
        assert lines[key].product.sku == want["sku"]
        assert lines[key].unit_price == want["unit_price"]


def test_it_matches_the_same_lines_when_the_file_is_imported_again(org, owner, erp):
    built = erp(orders=200)
    run(org, owner, "sales-order-lines", built.path, mapping=realfiles.ORDER_DETAIL_MAPPING)
    again = run(
        org,
        owner,
        "sales-order-lines",
        built.path,
        mapping=realfiles.ORDER_DETAIL_MAPPING,
        on_duplicate="update",
    )
    s = again.summary
    assert (s["created"], s["updated"], s["unchanged"], s["failed"]) == (0, 0, len(built.rows), 0)
    assert SalesOrderLine.objects.filter(organization=org).count() == len(built.rows)


def test_it_explains_a_constant_line_number_instead_of_a_unique_order_number(
    org, owner, erp, tmp_path
):
    built = erp(orders=20)
    job = run(
        org,
        owner,
        "sales-order-lines",
        built.path,
        mapping=realfiles.ORDER_DETAIL_MAPPING,
        options={"line_number": {"constant": "1"}},
    )
    messages = log_messages(job)
    assert messages, job.summary
    assert not any("Order number must be unique" in m for m in messages)
    first = messages[0]
    assert "line 1" in first and "order" in first
    assert "Leave Line unmapped" in first, first


def test_it_needs_no_line_column_to_start(org, owner, erp):
    built = erp(orders=5)
    job = draft(org, owner, "sales-order-lines", built.path, mapping=realfiles.ORDER_DETAIL_MAPPING)
    from wizard.mapping import mapping_missing_required

    assert (
        mapping_missing_required(resource="sales-order-lines", mapping=job.params["mapping"]) == []
    )


def test_it_suggests_the_order_column_for_lines(org, owner, erp):
    built = erp(orders=5)
    job = draft(org, owner, "sales-order-lines", built.path)
    assert job.params["mapping"].get("OrderID") == "order"


# --- 5. more decimals than the field --------------------------------------------------------------


def test_it_groups_too_many_decimals_into_one_problem_that_offers_rounding(org, owner, erp):
    built = erp(orders=300, three_decimals=True, name="details_3dp.csv")
    job = run(org, owner, "sales-order-lines", built.path, mapping=realfiles.ORDER_DETAIL_MAPPING)
    s = job.summary
    rows = len(built.rows)
    assert s["failed"] == rows
    # Still one row-log entry per row…
    assert JobLogEntry.objects.filter(job=job, level="error").count() == rows
    # …but one line in the summary, offering the rounding.
    p = problem(s, "decimal_places")
    assert p["count"] == rows and p["column"] == "UnitPrice" and p["field"] == "unit_price"
    assert p["message"] == (
        f"{rows:,} values in 'UnitPrice' have more than 2 decimal places "
        f"(e.g. '{built.rows[0][2]}'). Round them (half-up or half-even), or fix the file."
    )
    assert p["offer"] == {"setting": "rounding", "choices": ["half-up", "half-even"]}
    from wizard.summary import import_summary_items

    texts = [str(i.value) for i in import_summary_items(job)] + [
        str(c.value) for i in import_summary_items(job) for c in i.children
    ]
    assert any(p["message"] in t for t in texts), texts


@pytest.mark.parametrize(
    ("rounding", "value", "want"),
    [
        ("half-up", "16.445", Decimal("16.45")),
        ("half-even", "16.445", Decimal("16.44")),
        ("half-even", "16.448", Decimal("16.45")),
    ],
)
def test_it_rounds_money_when_asked(org, owner, erp, rounding, value, want, tmp_path):
    built = erp(orders=50, three_decimals=True)
    rows = [list(r) for r in built.rows]
    rows[0][2] = value
    path = realfiles.write_csv(tmp_path / "r.csv", built.headers, rows)
    job = run(
        org,
        owner,
        "sales-order-lines",
        path,
        mapping=realfiles.ORDER_DETAIL_MAPPING,
        rounding=rounding,
    )
    s = job.summary
    assert (s["failed"], s["created"]) == (0, len(rows))
    assert s["rounded"] == {"unit_price": len(rows)}
    line = SalesOrderLine.objects.get(organization=org, order__number=rows[0][0], line_number=1)
    assert line.unit_price == want


def test_it_rounds_from_the_command_line(org, owner, erp):
    built = erp(orders=40, three_decimals=True)
    args = [f"--map={h}={f}" for h, f in realfiles.ORDER_DETAIL_MAPPING.items()]
    code, out, _ = cli("import_data", "sales-order-lines", str(built.path), *args, "--json")
    body = json.loads(out)
    assert code == 2
    assert [p["kind"] for p in body["problems"]] == ["decimal_places"]
    code, out, _ = cli(
        "import_data",
        "sales-order-lines",
        str(built.path),
        *args,
        "--rounding",
        "half-up",
        "--json",
    )
    body = json.loads(out)
    assert code == 0, body
    assert body["created"] == len(built.rows)


# --- 6. bare Excel serial dates ------------------------------------------------------------------


@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
def test_it_offers_to_read_serial_numbers_as_excel_dates(org, owner, tmp_path, xlsx):
    built = realfiles.contacts_with_serial_birth_dates(tmp_path, xlsx=xlsx)
    job, child = preview(org, owner, "contacts", built.path)
    p = problem(child.summary, "excel_serial_dates")
    assert p["field"] == "birth_date" and p["column"] == "Date of Birth"
    assert p["offer"] == {
        "setting": "date_format",
        "field": "birth_date",
        "choices": ["excel-1900", "excel-1904"],
    }
    serial, born = built.rows[0][3], built.expected[built.rows[0][0]]
    assert f"{serial}" in p["message"] and "Excel" in p["message"]
    assert born.strftime("%-d %b %Y") in p["message"]
    # The offer taken: every row reads.
    job = import_configure(job=job, options={"birth_date": {"date_format": "excel-1900"}})
    done = import_run_now(job=job)
    assert (done.summary["created"], done.summary["failed"]) == (2_000, 0)
    for email, want in list(built.expected.items())[:50]:
        assert Contact.objects.get(organization=org, email=email).birth_date == want


def test_it_reads_the_1904_date_system(org, owner, tmp_path):
    path = realfiles.write_csv(
        tmp_path / "mac.csv",
        ["Email", "Date of Birth"],
        [["a@x.com", realfiles.excel_serial(dt.date(1980, 5, 17), system=1904)]],
    )
    job = run(org, owner, "contacts", path, options={"birth_date": {"date_format": "excel-1904"}})
    assert job.summary["failed"] == 0, log_messages(job)
    assert Contact.objects.get(organization=org).birth_date == dt.date(1980, 5, 17)


def test_it_takes_excel_dates_from_the_command_line_and_the_api(org, owner, member, tmp_path):
    built = realfiles.contacts_with_serial_birth_dates(tmp_path, rows=300)
    code, out, _ = cli(
        "import_data",
        "contacts",
        str(built.path),
        "--date-format",
        "birth_date=excel-1900",
        "--dry-run",
        "--json",
    )
    body = json.loads(out)
    assert code == 0, body
    assert body["would_create"] == 300
    code, out, _ = cli(
        "import_data", "contacts", str(built.path), "--date-format", "Date of Birth=excel-1900"
    )
    assert code == 0, out
    assert Contact.objects.filter(organization=org, birth_date__isnull=False).count() == 300
    Contact.objects.all().delete()
    api = token_client(make_token(member, org))
    response = api.post(
        "/api/v1/contacts/import/",
        {
            "file": SimpleUploadedFile("c.csv", built.path.read_bytes()),
            "date_formats": '{"birth_date": "excel-1900"}',
        },
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    job = DataJob.objects.get(pk=response.json()["job_id"])
    job_run(job.pk, lambda j, progress: import_run(job=j, progress=progress))
    job.refresh_from_db()
    assert (job.summary["created"], job.summary["failed"]) == (300, 0)


def test_it_does_not_offer_excel_dates_for_ordinary_numbers(org, owner, tmp_path):
    path = realfiles.write_csv(
        tmp_path / "n.csv",
        ["Email", "Date of Birth"],
        [["a@x.com", "12"], ["b@x.com", "2024-01-05"], ["c@x.com", "29358"]],
    )
    _, child = preview(org, owner, "contacts", path)
    assert not [p for p in child.summary.get("problems") or [] if p["kind"] == "excel_serial_dates"]


# --- 7. contacts without an e-mail ---------------------------------------------------------------


def test_it_imports_crm_contacts_by_fallback_keys(org, owner, tmp_path):
    built = realfiles.crm_contacts_without_email(tmp_path)
    for name in realfiles.ACCOUNTS:
        AccountFactory(organization=org, name=name)
    job = run(org, owner, "contacts", built.path, mapping=realfiles.CRM_MAPPING)
    s = job.summary
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    assert (s["created"], s["failed"]) == (3_000, 0), log_messages(job)[:5]
    assert s["keys_used"] == {
        "email": built.notes["with_email"],
        "legacy_id": built.notes["legacy_only"],
        "first_name + last_name + account": built.notes["name_account_only"],
        "none": built.notes["no_key"],
    }
    assert (
        Contact.objects.filter(organization=org, email="").count()
        == 3_000 - (built.notes["with_email"])
    )
    # Again, with updates: every keyed row matches its contact; keyless rows are new again.
    again = run(
        org, owner, "contacts", built.path, mapping=realfiles.CRM_MAPPING, on_duplicate="update"
    )
    s = again.summary
    assert s["created"] == built.notes["no_key"]
    assert s["unchanged"] == 3_000 - built.notes["no_key"]


def test_it_matches_an_existing_contact_by_legacy_id_when_the_email_is_blank(org, owner, tmp_path):
    acme = AccountFactory(organization=org, name="Acme")
    ContactFactory(organization=org, email="", legacy_id="L-1", first_name="Old", account=acme)
    ContactFactory(
        organization=org, email="", legacy_id="", first_name="Ann", last_name="Lee", account=acme
    )
    path = realfiles.write_csv(
        tmp_path / "c.csv",
        ["Email", "Legacy ID", "First name", "Last name", "Company", "Phone"],
        [
            ["", "L-1", "New", "", "Acme", "1"],
            ["", "", "Ann", "Lee", "Acme", "2"],
            ["", "", "", "", "", "3"],
        ],
    )
    job = run(org, owner, "contacts", path, on_duplicate="update")
    s = job.summary
    assert (s["updated"], s["created"], s["failed"]) == (2, 1, 0), log_messages(job)
    assert Contact.objects.get(organization=org, legacy_id="L-1").first_name == "New"
    assert Contact.objects.get(organization=org, first_name="Ann").phone == "2"
    assert Account.objects.filter(organization=org).count() == 1


def test_it_says_in_the_preview_that_a_row_without_any_key_is_created(org, owner, tmp_path):
    path = realfiles.write_csv(
        tmp_path / "c.csv",
        ["Email", "First name", "Phone"],
        [["", "", "+1 1"], ["a@x.com", "Ann", "+1 2"]],
    )
    job, child = preview(org, owner, "contacts", path)
    rows = {r.row_number: r for r in ImportRow.objects.filter(job=job)}
    assert rows[2].status == ImportRow.Status.NEW
    assert rows[2].warnings == {
        "": [
            "no key: will be created as new (no email, legacy ID, or first name + last name + account)"
        ]
    }
    assert child.summary["keys_used"]["none"] == 1


def test_it_keeps_the_organizations_apart_when_matching_by_fallback_keys(
    org, owner, other_org, tmp_path
):
    ContactFactory(organization=other_org, email="", legacy_id="L-1", first_name="Theirs")
    path = realfiles.write_csv(tmp_path / "c.csv", ["Legacy ID", "First name"], [["L-1", "Ours"]])
    job = run(org, owner, "contacts", path, on_duplicate="update")
    assert job.summary["created"] == 1
    assert Contact.objects.get(organization=other_org).first_name == "Theirs"
