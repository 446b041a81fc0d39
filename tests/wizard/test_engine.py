"""The import engine end to end in-process: mapping options, types, references, duplicates,
modes, limits, cancellation, previews, failed rows, organization isolation, query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from business.models import Account, Contact, Customer, Lead
from jobs.errors import FerryError, JobCancelled, LimitExceeded
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_create, job_run
from tests.factories import AccountFactory, ContactFactory
from wizard.engine.undo import changes_created_ids
from wizard.models import ImportChange, ImportRow
from wizard.readers import ReaderError
from wizard.services import (
    failed_rows_file,
    import_configure,
    import_create,
    import_preview_start,
    import_row_edit,
    import_run,
    import_run_now,
    import_start,
)

# --- helpers shared by the engine test modules ------------------------------------------------


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_text(rows: list[list], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_file(tmp_path: Path, rows: list[list], name: str = "data.csv", **kw) -> Path:
    path = tmp_path / name
    path.write_text(csv_text(rows, **kw), encoding="utf-8")
    return path


def draft(org, user, resource: str, path: Path, **configure) -> DataJob:
    with open(path, "rb") as fh:
        job = import_create(
            organization=org, user=user, resource=resource, file=fh, filename=path.name
        )
    if configure:
        job = import_configure(job=job, **configure)
    return job


def run_import(org, user, resource: str, tmp_path: Path, rows: list[list], **configure) -> DataJob:
    """Create a draft from rows (header first), configure it and run it in this process."""
    path = write_file(tmp_path, rows)
    job = draft(org, user, resource, path, **configure)
    return import_run_now(job=job)


def log_messages(job, level: str = "error") -> list[str]:
    return list(
        JobLogEntry.objects.filter(job=job, level=level)
        .order_by("row_number", "pk")
        .values_list("message", flat=True)
    )


CONTACT_HEADERS = ["Email", "First name", "Last name", "Company"]


# --- mapping and options ----------------------------------------------------------------------


def test_it_proposes_a_mapping_and_stores_what_it_found(org, owner, tmp_path):
    path = write_file(tmp_path, [CONTACT_HEADERS, ["a@x.com", "Ann", "Lee", ""]])
    job = draft(org, owner, "contacts", path)
    assert job.status == DataJob.Status.PENDING
    assert job.params["mapping"] == {
        "Email": "email",
        "First name": "first_name",
        "Last name": "last_name",
        "Company": "account",
    }
    assert job.params["file_info"]["headers"] == CONTACT_HEADERS
    assert job.params["permission"] == "can_import_contact"
    assert job.format == "csv"


def test_it_imports_contacts_and_records_what_it_created(org, owner, tmp_path):
    acme = AccountFactory(organization=org, name="Acme")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [CONTACT_HEADERS, ["ada@x.com", "Ada", "Lovelace", "Acme"], ["bob@x.com", "Bob", "", ""]],
    )
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    assert (job.summary["created"], job.summary["failed"]) == (2, 0)
    ada = Contact.objects.get(organization=org, email="ada@x.com")
    assert (ada.first_name, ada.last_name, ada.account_id) == ("Ada", "Lovelace", acme.pk)
    assert Contact.objects.get(email="bob@x.com").account_id is None
    assert len(changes_created_ids(job=job)) == 2
    assert (job.total, job.processed, job.succeeded) == (2, 2, 2)


def test_it_applies_default_constant_join_and_value_map_options(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "customers",
        tmp_path,
        [
            ["Code", "Name", "Kind", "Street", "Number", "Limit", "Active"],
            ["C1", "One", "W", "Main St", "12", "1.500,00", "Oui"],
            ["C2", "Two", "", "High St", "", "", "non"],
        ],
        mapping={
            "Code": "code",
            "Name": "name",
            "Kind": "customer_type",
            "Limit": "credit_limit",
            "Active": "is_active",
        },
        options={
            "customer_type": {"value_map": {"W": "wholesale"}, "default": "retail"},
            "address": {"join": ["Street", "Number"], "join_with": " "},
            "city": {"constant": "Leeds"},
            "credit_limit": {"decimal": ",", "thousands": "."},
            "is_active": {"value_map": {"Oui": True, "non": False}},
        },
    )
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    one = Customer.objects.get(code="C1")
    two = Customer.objects.get(code="C2")
    assert (one.customer_type, one.address, one.city, one.credit_limit, one.is_active) == (
        "wholesale",
        "Main St 12",
        "Leeds",
        Decimal("1500.00"),
        True,
    )
    assert (two.customer_type, two.address, two.city, two.is_active) == (
        "retail",
        "High St",
        "Leeds",
        False,
    )
    assert two.credit_limit == Decimal("0")


def test_it_uses_the_date_format_option(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "Birthday"], ["a@x.com", "03/04/1990"]],
        options={"birth_date": {"date_format": "%m/%d/%Y"}},
    )
    assert Contact.objects.get(email="a@x.com").birth_date == dt.date(1990, 3, 4)
    assert job.summary["warnings"] == 0


def test_it_warns_when_dates_could_be_day_or_month_first(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "Birthday"], ["a@x.com", "03/04/1990"], ["b@x.com", "05/06/1991"]],
    )
    assert Contact.objects.get(email="a@x.com").birth_date == dt.date(1990, 4, 3)
    [warning] = log_messages(job, "warning")
    assert "could be dd/mm/yyyy or mm/dd/yyyy" in warning
    assert job.summary["date_formats"] == {"birth_date": "%d/%m/%Y"}


def test_it_guesses_month_first_dates_from_the_data(org, owner, tmp_path):
    run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "Birthday"], ["a@x.com", "12/31/1990"], ["b@x.com", "01/02/1991"]],
    )
    assert Contact.objects.get(email="b@x.com").birth_date == dt.date(1991, 1, 2)


def test_it_applies_template_rules(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "leads",
        tmp_path,
        [
            ["Email", "Company", "Value", "Source"],
            ["a@x.com", "Acme", "100", "web"],
            ["b@x.com", "", "5", "fax"],
            ["c@x.com", "Acme Widgets Incorporated", "20000", "web"],
            ["d@x.com", "B", "10", "WEB"],
        ],
        rules={
            "company_name": {"required": True, "max": 10, "unique": True},
            "estimated_value": {"min": 10, "max": "10000"},
            "source": {"allowed": ["web", "phone"], "regex": "[a-zA-Z]+"},
        },
    )
    errors = log_messages(job)
    assert "Row 3, column 'Company': a value is required" in errors
    assert "Row 3, column 'Value': '5' must be at least 10" in errors
    assert "Row 3, column 'Source': 'fax' is not one of the allowed values: web, phone" in errors
    assert (
        "Row 4, column 'Company': 'Acme Widgets Incorporated' must be at most 10 characters long"
        in errors
    )
    assert "Row 4, column 'Value': '20000' must be at most 10000" in errors
    assert Lead.objects.filter(organization=org).count() == 2
    assert job.summary["failed"] == 2


def test_it_reports_in_file_duplicates_of_a_unique_rule(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "leads",
        tmp_path,
        [["Email", "Company"], ["a@x.com", "Acme"], ["b@x.com", "Acme"]],
        rules={"company_name": {"unique": True}},
    )
    assert log_messages(job) == [
        "Row 3, column 'Company': 'Acme' appears more than once in this file (must be unique)"
    ]


# --- messages and bad input ------------------------------------------------------------------


def test_it_names_row_column_and_value_in_messages(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "leads",
        tmp_path,
        [["Email", "Value", "Status"]]
        + [[f"l{i}@x.com", "10", "new"] for i in range(15)]
        + [["p@x.com", "12,5O", "Hot"]],
    )
    assert log_messages(job) == [
        "Row 17, column 'Value': '12,5O' is not a number",
        "Row 17, column 'Status': 'Hot' is not one of: New, Contacted, Qualified, Disqualified",
    ]
    entry = JobLogEntry.objects.filter(job=job).first()
    assert (entry.row_number, entry.column, entry.value, entry.level) == (
        17,
        "Value",
        "12,5O",
        "error",
    )
    assert job.summary["errors"][0] == {
        "row": 17,
        "column": "Value",
        "value": "12,5O",
        "message": "Row 17, column 'Value': '12,5O' is not a number",
    }


def test_it_reports_ragged_rows_as_row_errors(org, owner, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("Email,First name\na@x.com,Ann\nb@x.com\nc@x.com,Cy,extra\nd@x.com,Di,\n")
    job = import_run_now(job=draft(org, owner, "contacts", path))
    assert job.status == DataJob.Status.COMPLETED
    assert log_messages(job) == [
        "Row 3: the row has 1 values but the header has 2 columns",
        "Row 4: the row has 3 values but the header has 2 columns",
    ]
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["a@x.com", "d@x.com"]


def test_it_refuses_an_unreadable_file_and_keeps_nothing(org, owner, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    with pytest.raises(ReaderError):
        draft(org, owner, "contacts", path)
    assert not DataJob.objects.exists()


def test_it_refuses_an_empty_file(org, owner, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ReaderError, match="empty"):
        draft(org, owner, "contacts", path)
    assert not DataJob.objects.exists()


def test_it_refuses_an_unknown_or_export_only_resource(org, owner, tmp_path):
    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    with pytest.raises(FerryError, match="Unknown resource 'people'"):
        draft(org, owner, "people", path)
    with pytest.raises(FerryError, match="cannot be imported"):
        draft(org, owner, "audit-events", path)


def test_it_refuses_to_start_with_required_fields_unmapped(org, owner, tmp_path):
    path = write_file(tmp_path, [["Name", "Kind"], ["One", "retail"]])
    job = draft(org, owner, "customers", path)
    with pytest.raises(FerryError) as exc:
        import_start(job=job)
    assert exc.value.message == (
        "Map a column (or set a constant) for the required field 'Customer code' before importing."
    )
    job.refresh_from_db()
    assert job.status == DataJob.Status.PENDING
    import_configure(job=job, options={"code": {"constant": "C9"}})
    assert import_run_now(job=job).status == DataJob.Status.COMPLETED


def test_it_refuses_bad_settings_while_configuring(org, owner, tmp_path):
    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    job = draft(org, owner, "contacts", path)
    with pytest.raises(FerryError, match="Unknown duplicate handling"):
        import_configure(job=job, on_duplicate="merge")
    with pytest.raises(FerryError, match="Unknown mode"):
        import_configure(job=job, mode="yolo")
    with pytest.raises(FerryError, match="no column 'Mail'"):
        import_configure(job=job, mapping={"Mail": "email"})


def test_it_fails_the_job_when_a_column_maps_to_an_unknown_field(org, owner, tmp_path):
    path = write_file(tmp_path, [["Email", "Shoe size"], ["a@x.com", "42"]])
    job = draft(org, owner, "contacts", path, mapping={"Email": "email", "Shoe size": "shoe"})
    job = import_run_now(job=job)
    assert job.status == DataJob.Status.FAILED
    assert "'shoe', which is not a field of contacts" in job.error_message
    assert not Contact.objects.exists()


def test_it_re_inspects_when_read_options_change(org, owner, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("Email;Company\na@x.com;Acme\n", encoding="cp1252")
    job = draft(org, owner, "contacts", path)
    assert job.params["file_info"]["delimiter"] == ";"
    job = import_configure(job=job, read={"delimiter": ","})
    assert job.params["file_info"]["headers"] == ["Email;Company"]
    job = import_configure(job=job, read={"delimiter": ";"})
    assert job.params["mapping"] == {"Email": "email", "Company": "account"}


# --- references ------------------------------------------------------------------------------


def test_it_reports_an_unresolved_reference(org, owner, tmp_path):
    job = run_import(
        org, owner, "contacts", tmp_path, [CONTACT_HEADERS, ["a@x.com", "A", "B", "Nowhere Ltd"]]
    )
    assert log_messages(job) == [
        "Row 2, column 'Company': no account with name 'Nowhere Ltd' "
        "(tick 'create missing' for account or map it to an existing one)"
    ]
    assert job.summary["unresolved"] == {"account": {"Nowhere Ltd": 1}}
    assert not Contact.objects.exists()


def test_it_creates_missing_references_when_asked(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [CONTACT_HEADERS, ["a@x.com", "A", "", "New Co"], ["b@x.com", "B", "", "New Co"]],
        create_missing={"account": True},
    )
    account = Account.objects.get(organization=org, name="New Co")
    assert set(Contact.objects.values_list("account_id", flat=True)) == {account.pk}
    assert job.summary["references_created"] == {"accounts": 1}
    assert ImportChange.objects.filter(job=job, resource="accounts", action="created").count() == 1


def test_it_maps_file_values_to_existing_records(org, owner, tmp_path):
    acme = AccountFactory(organization=org, name="Acme Corporation")
    run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [CONTACT_HEADERS, ["a@x.com", "A", "", "ACME corp."]],
        reference_map={"account": {"ACME corp.": "Acme Corporation"}},
    )
    assert Contact.objects.get(email="a@x.com").account_id == acme.pk


def test_it_matches_references_ignoring_case_unless_ambiguous(org, owner, tmp_path):
    globex = AccountFactory(organization=org, name="Globex")
    AccountFactory(organization=org, name="Initech")
    AccountFactory(organization=org, name="INITECH")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [CONTACT_HEADERS, ["a@x.com", "", "", "globex"], ["b@x.com", "", "", "initech"]],
    )
    assert Contact.objects.get(email="a@x.com").account_id == globex.pk
    assert log_messages(job) == [
        "Row 3, column 'Company': 'initech' matches several accounts (INITECH, Initech); "
        "write it exactly as stored"
    ]


def test_it_never_matches_another_organizations_records(org, owner, other_org, tmp_path):
    theirs = ContactFactory(organization=other_org, email="same@x.com", first_name="Theirs")
    AccountFactory(organization=other_org, name="Their Account")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [CONTACT_HEADERS, ["same@x.com", "Ours", "", "Their Account"], ["b@x.com", "B", "", ""]],
        on_duplicate="update",
    )
    assert log_messages(job) == [
        "Row 2, column 'Company': no account with name 'Their Account' "
        "(tick 'create missing' for account or map it to an existing one)"
    ]
    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"
    job2 = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "First name"], ["same@x.com", "Ours"]],
        on_duplicate="update",
    )
    assert job2.summary["created"] == 1 and job2.summary["updated"] == 0
    assert Contact.objects.get(organization=org, email="same@x.com").first_name == "Ours"
    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"


# --- duplicates ------------------------------------------------------------------------------


def test_it_skips_existing_records_by_default(org, owner, tmp_path):
    existing = ContactFactory(organization=org, email="a@x.com", first_name="Old")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "First name"], ["a@x.com", "New"], ["b@x.com", "B"]],
    )
    existing.refresh_from_db()
    assert existing.first_name == "Old"
    assert (job.summary["created"], job.summary["skipped"], job.summary["updated"]) == (1, 1, 0)


def test_it_updates_only_mapped_fields_and_counts_unchanged_as_skipped(org, owner, tmp_path):
    a = ContactFactory(
        organization=org, email="a@x.com", first_name="Old", last_name="Keep", phone="1"
    )
    ContactFactory(organization=org, email="b@x.com", first_name="Same", phone="2")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "First name"], ["a@x.com", "New"], ["b@x.com", "Same"]],
        on_duplicate="update",
    )
    a.refresh_from_db()
    assert (a.first_name, a.last_name, a.phone) == ("New", "Keep", "1")
    assert (job.summary["updated"], job.summary["skipped"], job.summary["unchanged"]) == (1, 1, 1)
    change = ImportChange.objects.get(job=job, action="updated")
    assert (change.object_id, change.before, change.after) == (
        a.pk,
        {"first_name": "Old"},
        {"first_name": "New"},
    )


def test_it_refuses_create_new_for_a_unique_key_with_a_clear_row_error(org, owner, tmp_path):
    ContactFactory(organization=org, email="a@x.com")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email"], ["a@x.com"], ["b@x.com"]],
        on_duplicate="create",
    )
    assert job.status == DataJob.Status.COMPLETED
    assert log_messages(job) == [
        "Row 2, column 'Email': a contact with this email already exists, and it must be unique, "
        "so a new one cannot be created (choose skip or update)"
    ]
    assert Contact.objects.filter(organization=org).count() == 2


def test_it_reports_in_file_duplicate_keys(org, owner, tmp_path):
    rows = [["Email", "First name"], ["a@x.com", "One"], ["b@x.com", "B"], ["a@x.com", "Two"]]
    job = run_import(org, owner, "contacts", tmp_path, rows)
    assert log_messages(job) == [
        "Row 4, column 'First name': email 'a@x.com' is also on row 2 with another first name: "
        "'One' there, 'Two' here (choose which row wins: repeats first or last)"
    ]
    assert Contact.objects.get(email="a@x.com").first_name == "One"


def test_it_compares_repeats_on_the_fallback_keys_fields_too(org, owner, tmp_path):
    # First name + last name + company is the contacts' fallback key; a row keyed by its e-mail
    # still conflicts when those differ, instead of being merged into the first row silently.
    rows = [
        ["Email", "First name", "Last name", "Company"],
        ["a@x.com", "Ann", "Lee", "Acme"],
        ["a@x.com", "Anne", "Lee", "Acme"],
        ["b@x.com", "Bo", "Ek", "Acme"],
        ["b@x.com", "Bo", "Ek", "Acme"],
    ]
    job = run_import(org, owner, "contacts", tmp_path, rows, create_missing={"account": True})
    assert log_messages(job) == [
        "Row 3, column 'First name': email 'a@x.com' is also on row 2 with another first name: "
        "'Ann' there, 'Anne' here (choose which row wins: repeats first or last)"
    ]
    assert (job.summary["created"], job.summary["repeats_merged"]) == (2, 1)


def test_it_reports_in_file_duplicates_across_batches(org, owner, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    rows = [
        ["Email", "Phone"],
        ["a@x.com", "1"],
        ["b@x.com", ""],
        ["c@x.com", ""],
        ["a@x.com", "2"],
    ]
    job = run_import(org, owner, "contacts", tmp_path, rows)
    assert log_messages(job) == [
        "Row 5, column 'Phone': email 'a@x.com' is also on row 2 with another phone: "
        "'1' there, '2' here (choose which row wins: repeats first or last)"
    ]


def test_it_merges_identical_repeats_across_batches(org, owner, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    rows = [["Email"], ["a@x.com"], ["b@x.com"], ["c@x.com"], ["a@x.com"]]
    job = run_import(org, owner, "contacts", tmp_path, rows)
    assert log_messages(job) == []
    s = job.summary
    assert (s["created"], s["failed"], s["repeats_merged"]) == (3, 0, 1)


# --- modes -----------------------------------------------------------------------------------


def test_it_writes_nothing_in_a_dry_run_but_counts_everything(org, owner, tmp_path):
    ContactFactory(organization=org, email="a@x.com", first_name="Old")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [
            CONTACT_HEADERS,
            ["a@x.com", "New", "", ""],
            ["b@x.com", "B", "", "New Co"],
            ["bad", "", "", ""],
        ],
        on_duplicate="update",
        dry_run=True,
        create_missing={"account": True},
    )
    s = job.summary
    assert (s["would_create"], s["would_update"], s["failed"], s["created"], s["updated"]) == (
        1,
        1,
        1,
        0,
        0,
    )
    assert s["unresolved"] == {"account": {"New Co": 1}}
    assert Contact.objects.get(email="a@x.com").first_name == "Old"
    assert not Contact.objects.filter(email="b@x.com").exists()
    assert not Account.objects.exists()
    assert not ImportChange.objects.exists()


def test_it_writes_nothing_in_atomic_mode_when_a_row_fails(org, owner, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    rows = [
        ["Email", "Company"],
        ["a@x.com", "New Co"],
        ["b@x.com", ""],
        ["c@x.com", ""],
        ["bad", ""],
        ["d@x", ""],
    ]
    job = run_import(
        org, owner, "contacts", tmp_path, rows, mode="atomic", create_missing={"account": True}
    )
    assert job.status == DataJob.Status.FAILED
    assert job.error_message.startswith("Nothing was imported: 2 rows have errors")
    assert job.summary["rolled_back"] is True
    assert (job.summary["created"], job.summary["failed"]) == (0, 2)
    assert log_messages(job) == [
        "Row 5, column 'Email': 'bad' is not a valid e-mail address",
        "Row 6, column 'Email': 'd@x' is not a valid e-mail address",
    ]
    assert not Contact.objects.exists()
    assert not Account.objects.exists()
    assert not ImportChange.objects.exists()


def test_it_writes_everything_in_atomic_mode_when_all_rows_are_valid(org, owner, tmp_path):
    job = run_import(
        org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"], ["b@x.com"]], mode="atomic"
    )
    assert job.status == DataJob.Status.COMPLETED
    assert Contact.objects.count() == 2 and job.summary["rolled_back"] is False


def test_it_writes_valid_rows_and_logs_invalid_ones_in_skip_invalid_mode(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [
            ["Email", "Birthday"],
            ["a@x.com", "2001-02-03"],
            ["b@x.com", "2001-02-30"],
            ["c@x.com", ""],
        ],
    )
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["a@x.com", "c@x.com"]
    assert log_messages(job) == ["Row 3, column 'Birthday': '2001-02-30' is not a valid date"]
    assert (job.succeeded, job.failed) == (2, 1)


def test_it_stops_at_the_row_limit(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email"], ["a@x.com"], ["b@x.com"], ["c@x.com"]],
        limit=2,
    )
    assert job.summary["total"] == 2
    assert Contact.objects.count() == 2


# --- limits ----------------------------------------------------------------------------------


def test_it_refuses_a_file_over_the_size_limit(org, owner, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_UPLOAD_BYTES": 1024 * 1024}
    path = tmp_path / "big.csv"
    path.write_text("Email\n" + "a@x.com\n" * 140_000)
    with pytest.raises(LimitExceeded) as exc:
        draft(org, owner, "contacts", path)
    assert exc.value.message == (
        "The file is 1.1 MB; the most Ferry accepts is 1.0 MB. Split it into smaller files."
    )
    assert not DataJob.objects.exists()


def test_it_refuses_a_file_over_the_row_limit(org, owner, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_IMPORT_ROWS": 3}
    path = write_file(tmp_path, [["Email"]] + [[f"{i}@x.com"] for i in range(5)])
    with pytest.raises(
        LimitExceeded, match="The file has 5 data rows; one import may have at most 3"
    ):
        draft(org, owner, "contacts", path)
    assert not DataJob.objects.exists()


def test_it_stops_a_run_that_goes_over_the_row_limit(org, owner, tmp_path, settings):
    path = write_file(tmp_path, [["Email"]] + [[f"{i}@x.com"] for i in range(5)])
    job = draft(org, owner, "contacts", path, mode="atomic")
    settings.FERRY = {**settings.FERRY, "MAX_IMPORT_ROWS": 3, "IMPORT_BATCH_SIZE": 2}
    job = import_run_now(job=job)
    assert job.status == DataJob.Status.FAILED
    assert "more than 3 data rows" in job.error_message
    assert not Contact.objects.exists()


def test_it_refuses_more_concurrent_imports_than_allowed(org, owner, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_CONCURRENT_IMPORTS": 2}
    for status in (DataJob.Status.QUEUED, DataJob.Status.RUNNING):
        job = job_create(organization=org, user=owner, job_type="import", target="contacts")
        DataJob.objects.filter(pk=job.pk).update(status=status)
    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    job = draft(org, owner, "contacts", path)
    with pytest.raises(LimitExceeded) as exc:
        import_start(job=job)
    assert exc.value.message == (
        "Your organization already has 2 imports queued or running, the most at once is 2. "
        "Start this one when one of them has finished."
    )
    with pytest.raises(LimitExceeded):
        import_preview_start(job=job)
    job.refresh_from_db()
    assert job.status == DataJob.Status.PENDING


def test_it_does_not_count_another_organizations_imports(
    org, owner, other_org, other_user, tmp_path, settings
):
    settings.FERRY = {**settings.FERRY, "MAX_CONCURRENT_IMPORTS": 1}
    theirs = job_create(
        organization=other_org, user=other_user, job_type="import", target="contacts"
    )
    DataJob.objects.filter(pk=theirs.pk).update(status=DataJob.Status.RUNNING)
    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    assert import_run_now(job=draft(org, owner, "contacts", path)).status == "completed"


def test_it_rechecks_the_permission_when_the_task_runs(org, member, tmp_path):
    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    job = draft(org, member, "contacts", path)
    membership = member.memberships.get(organization=org)
    membership.revoked_permissions = ["can_import_contact"]
    membership.save()
    job = import_run_now(job=job)
    assert job.status == DataJob.Status.FAILED
    assert "may no longer import contacts" in job.error_message
    assert not Contact.objects.exists()


# --- cancellation ----------------------------------------------------------------------------


class CancelAfter:
    """A progress that asks to cancel when the given batch is about to start."""

    def __init__(self, job, batches: int):
        self.job = job
        self.batches = batches
        self.calls = 0

    def set_total(self, total):
        self.job.total = total

    def update(self, **kwargs):
        return False

    def check_cancel(self, **kwargs):
        self.calls += 1
        if self.calls > self.batches:
            raise JobCancelled()


@pytest.mark.parametrize(("mode", "kept"), [("skip-invalid", 2), ("atomic", 0)])
def test_it_honours_cancellation_between_batches(org, owner, tmp_path, settings, mode, kept):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    path = write_file(tmp_path, [["Email"]] + [[f"{i}@x.com"] for i in range(6)])
    job = draft(org, owner, "contacts", path, mode=mode)
    job_run(job.pk, lambda j, p: import_run(job=j, progress=CancelAfter(j, 1)))
    job.refresh_from_db()
    assert job.status == DataJob.Status.CANCELLED
    assert Contact.objects.count() == kept
    assert len(changes_created_ids(job=job)) == kept


# --- preview, row edits, failed rows ---------------------------------------------------------


def preview(job) -> DataJob:
    child = import_preview_start(job=job)
    DataJob.objects.filter(pk=child.pk).update(status=DataJob.Status.QUEUED)
    job_run(child.pk, lambda j, p: import_run(job=j, progress=p))
    child.refresh_from_db()
    return child


def test_it_previews_every_row_on_the_draft(org, owner, tmp_path):
    ContactFactory(organization=org, email="a@x.com", first_name="Old")
    ContactFactory(organization=org, email="c@x.com", first_name="Same")
    path = write_file(
        tmp_path,
        [
            ["Email", "First name", "Company"],
            ["a@x.com", "New", ""],
            ["b@x.com", "B", "Missing Inc"],
            ["c@x.com", "Same", ""],
            ["bad", "D", ""],
            ["e@x.com", "E", ""],
        ],
    )
    job = draft(org, owner, "contacts", path, on_duplicate="update")
    child = preview(job)
    assert child.status == DataJob.Status.COMPLETED, child.error_message
    assert child.params["preview_for"] == job.pk and child.params["dry_run"] is True
    s = child.summary
    assert (s["would_create"], s["would_update"], s["unchanged"], s["invalid"]) == (1, 1, 1, 2)
    assert s["unresolved"] == {"account": {"Missing Inc": 1}}
    job.refresh_from_db()
    assert job.params["preview_job_id"] == child.pk
    assert job.status == DataJob.Status.PENDING
    rows = {r.row_number: r for r in ImportRow.objects.filter(job=job)}
    assert [rows[n].status for n in range(2, 7)] == [
        "update",
        "invalid",
        "unchanged",
        "invalid",
        "new",
    ]
    assert rows[2].changes == {"first_name": ["Old", "New"]}
    assert rows[2].values == {"Email": "a@x.com", "First name": "New", "Company": ""}
    assert rows[5].errors == {"Email": ["'bad' is not a valid e-mail address"]}
    assert Contact.objects.count() == 2  # nothing written
    # A second preview replaces the rows.
    preview(job)
    assert ImportRow.objects.filter(job=job).count() == 5


def test_it_revalidates_an_edited_row_and_applies_the_edit_on_the_real_run(org, owner, tmp_path):
    path = write_file(
        tmp_path, [["Email", "Birthday"], ["a@x.com", "31/12/1990"], ["b@x.com", "31/13/1990"]]
    )
    job = draft(org, owner, "contacts", path)
    child = preview(job)
    assert child.summary["invalid"] == 1
    row = import_row_edit(job=job, row_number=3, column="Birthday", value="30/11/1990")
    assert (row.status, row.errors, row.edits) == ("new", {}, {"Birthday": "30/11/1990"})
    child.refresh_from_db()
    assert (child.summary["invalid"], child.summary["would_create"]) == (0, 2)
    bad = import_row_edit(job=job, row_number=2, column="Email", value="nope")
    assert bad.status == "invalid" and bad.errors == {
        "Email": ["'nope' is not a valid e-mail address"]
    }
    import_row_edit(job=job, row_number=2, column="Email", value="a@x.com")
    # A new preview keeps the person's fixes.
    preview(job)
    kept = ImportRow.objects.get(job=job, row_number=3)
    assert kept.edits == {"Birthday": "30/11/1990"}
    assert kept.values["Birthday"] == "31/13/1990"
    assert kept.effective_values["Birthday"] == "30/11/1990"
    assert kept.status == "new"
    job = import_run_now(job=job)
    assert job.status == DataJob.Status.COMPLETED
    assert Contact.objects.get(email="b@x.com").birth_date == dt.date(1990, 11, 30)
    assert job.summary["failed"] == 0


def test_it_refuses_edits_to_unknown_rows_or_columns(org, owner, tmp_path):
    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    job = draft(org, owner, "contacts", path)
    preview(job)
    with pytest.raises(FerryError, match="no column 'Mail'"):
        import_row_edit(job=job, row_number=2, column="Mail", value="x")
    with pytest.raises(FerryError, match="Row 9 is not in the preview"):
        import_row_edit(job=job, row_number=9, column="Email", value="x")


def test_it_writes_the_failed_rows_in_the_original_columns(org, owner, tmp_path):
    from django.core.files.storage import default_storage

    path = tmp_path / "people.csv"
    path.write_text("Email;First name;Notes\na@x.com;Ann;ok\nbad;Bob;x; y\nc@x;Cy;\n")
    job = import_run_now(job=draft(org, owner, "contacts", path))
    info = failed_rows_file(job=job)
    assert info["filename"] == "people-failed-rows.csv"
    with default_storage.open(info["name"]) as fh:
        text = fh.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    # The extra cell of a row longer than the header keeps a column of its own.
    assert rows == [
        ["Ferry row", "Email", "First name", "Notes", "(extra 1)", "error"],
        ["3", "bad", "Bob", "x", "y", "the row has 4 values but the header has 3 columns"],
        ["4", "c@x", "Cy", "", "", "'c@x' is not a valid e-mail address"],
    ]


def test_it_writes_failed_rows_of_a_workbook_as_a_workbook(org, owner, tmp_path):
    from django.core.files.storage import default_storage
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Email", "First name"])
    ws.append(["a@x.com", "Ann"])
    ws.append(["oops", "Bob"])
    path = tmp_path / "people.xlsx"
    wb.save(path)
    job = import_run_now(job=draft(org, owner, "contacts", path))
    info = failed_rows_file(job=job)
    assert info["filename"] == "people-failed-rows.xlsx"
    with default_storage.open(info["name"]) as fh:
        sheet = load_workbook(fh, read_only=True).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows == [
        ["Ferry row", "Email", "First name", "error"],
        ["3", "oops", "Bob", "'oops' is not a valid e-mail address"],
    ]


def test_it_writes_failed_rows_of_json_lines_as_json_lines(org, owner, tmp_path):
    from django.core.files.storage import default_storage

    path = tmp_path / "people.jsonl"
    path.write_text('{"Email": "a@x.com"}\n{"Email": "nope"}\n')
    job = import_run_now(job=draft(org, owner, "contacts", path))
    info = failed_rows_file(job=job)
    assert info["filename"] == "people-failed-rows.jsonl"
    with default_storage.open(info["name"]) as fh:
        lines = fh.read().decode().splitlines()
    import json

    assert [json.loads(line) for line in lines] == [
        {"Ferry row": "2", "Email": "nope", "error": "'nope' is not a valid e-mail address"}
    ]


def test_it_has_no_failed_rows_file_when_nothing_failed(org, owner, tmp_path):
    job = run_import(org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"]])
    assert failed_rows_file(job=job) is None


def test_it_records_an_audit_event_for_an_import(org, owner, tmp_path):
    from business.models import AuditEvent

    job = run_import(org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"]])
    event = AuditEvent.objects.get(organization=org, event_type="import")
    assert event.object_id == str(job.pk) and event.details["created"] == 1
    assert event.user == owner


# --- no query per row ------------------------------------------------------------------------


def _contacts_file(tmp_path, n: int, name: str) -> Path:
    rows = [["Email", "First name", "Company", "Birthday", "Stage"]]
    for i in range(n):
        rows.append([f"p{i}@x.com", f"P{i}", f"Account {i % 7}", "1990-01-02", "lead"])
    return write_file(tmp_path, rows, name=name)


@pytest.mark.parametrize("on_duplicate", ["skip", "update"])
def test_it_makes_no_query_per_row(org, owner, tmp_path, settings, on_duplicate):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 1000}
    for i in range(7):
        AccountFactory(organization=org, name=f"Account {i}")
    for i in range(0, 300, 3):
        ContactFactory(organization=org, email=f"p{i}@x.com", first_name="Old")
    counts = []
    for n in (30, 300):
        path = _contacts_file(tmp_path, n, f"c{n}.csv")
        job = draft(org, owner, "contacts", path, on_duplicate=on_duplicate)
        with CaptureQueriesContext(connection) as ctx:
            job = import_run_now(job=job)
        assert job.status == "completed", job.error_message
        counts.append(len(ctx.captured_queries))
    # Ten times the rows, the same number of queries: none of them is per row.
    assert counts[0] == counts[1], counts
    assert counts[1] < 40


def test_it_stays_within_a_query_budget_per_batch(
    org, owner, tmp_path, settings, django_assert_max_num_queries
):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 100}
    for i in range(7):
        AccountFactory(organization=org, name=f"Account {i}")
    path = _contacts_file(tmp_path, 500, "c.csv")
    job = draft(org, owner, "contacts", path, on_duplicate="update")
    # 5 batches × (accounts, duplicates, reserve keys ×2, insert, change log ×3, progress,
    # cancel check, savepoints) plus the job's own start/finish.
    with django_assert_max_num_queries(5 * 14 + 25):
        job = import_run_now(job=job)
    assert Contact.objects.count() == 500


def test_it_creates_records_with_the_bulk_writer_too(org, owner, tmp_path, monkeypatch):
    import jobs.bulk as fastinsert

    monkeypatch.setattr(fastinsert, "WRITER", "bulk")
    ContactFactory(organization=org, email="a@x.com", first_name="Old")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "First name"], ["a@x.com", "New"], ["b@x.com", "B"]],
        on_duplicate="update",
    )
    assert (job.summary["created"], job.summary["updated"]) == (1, 1)
    assert Contact.objects.get(email="a@x.com").first_name == "New"
    assert ImportChange.objects.filter(job=job).count() == 2


def test_it_never_reuses_keys_of_deleted_records(org, owner, tmp_path):
    last = ContactFactory(organization=org, email="z@x.com")
    last_pk = last.pk
    last.delete()
    run_import(org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"]])
    assert Contact.objects.get(email="a@x.com").pk > last_pk


def test_it_lets_an_ops_member_import(org, member, tmp_path):
    job = run_import(org, member, "contacts", tmp_path, [["Email"], ["a@x.com"]])
    assert job.status == "completed"


def test_it_shows_the_progress_of_an_atomic_run_while_it_runs(
    transactional_db, org, owner, tmp_path, settings
):
    from django.db import DEFAULT_DB_ALIAS, connections

    from jobs.services import JobProgress

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: an all-or-nothing run's progress shows at its end")
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    path = write_file(tmp_path, [["Email"]] + [[f"{i}@x.com"] for i in range(8)])
    job = draft(org, owner, "contacts", path, mode="atomic")
    seen = []

    class Peek(JobProgress):
        def check_cancel(self, **kwargs):
            other = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT processed FROM jobs_datajob WHERE id = %s", [self.job.pk]
                    )
                    seen.append(cursor.fetchone()[0])
            finally:
                other.close()
            super().check_cancel(**kwargs)

    job_run(job.pk, lambda j, p: import_run(job=j, progress=Peek(j)))
    job.refresh_from_db()
    assert job.status == "completed" and Contact.objects.count() == 8
    assert seen == [0, 2, 4, 6]


@pytest.mark.parametrize(("mode", "kept"), [("atomic", 0), ("skip-invalid", 4)])
def test_it_fails_clearly_when_the_file_breaks_part_way(org, owner, tmp_path, settings, mode, kept):
    from wizard.services import import_undo

    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    path = tmp_path / "broken.jsonl"
    lines = [f'{{"Email": "p{i}@x.com"}}' for i in range(5)]
    path.write_text("\n".join(lines) + "\n")
    job = draft(org, owner, "contacts", path, mode=mode)
    # The stored file is damaged after it was inspected (a truncated copy, a bad disk).
    lines[4] = '{"Email": "p9@x.com", oops}'
    Path(job.input_file.path).write_text("\n".join(lines) + "\n")
    job = import_run_now(job=job)
    assert job.status == DataJob.Status.FAILED
    assert "line 5" in job.error_message.lower() or "row 5" in job.error_message.lower()
    assert Contact.objects.count() == kept
    if kept:
        # What a skip-invalid run wrote before the break can be taken back.
        assert import_undo(job=job, user=owner).deleted == kept
        assert not Contact.objects.exists()
