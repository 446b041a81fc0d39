"""The engine's per-row bookkeeping: keys, repeats and matching existing records, in the cases
its fast paths must treat exactly like the general ones."""

from __future__ import annotations

import datetime as dt

import pytest

from business.models import Contact, Product
from tests.factories import AccountFactory
from tests.wizard.test_engine import log_messages, run_import
from wizard.engine import identity

PRODUCT_HEADERS = ["SKU", "Product name", "Unit cost", "Active", "Attributes"]


def test_it_finds_an_existing_record_unchanged_whatever_its_field_types(org, owner, tmp_path):
    # A JSON object, a decimal and a boolean read back from the database compare equal to the
    # same values parsed from the file (on PostgreSQL JSON comes back as text unless converted).
    rows = [PRODUCT_HEADERS, ["P-1", "Widget", "2.50", "yes", '{"grade": "A", "sizes": [1, 2]}']]
    first = run_import(org, owner, "products", tmp_path, rows, on_duplicate="update")
    assert (first.summary["created"], first.summary["failed"]) == (1, 0)
    again = run_import(org, owner, "products", tmp_path, rows, on_duplicate="update")
    assert again.summary["updated"] == 0
    assert again.summary["unchanged"] == 1
    product = Product.objects.get(organization=org, sku="P-1")
    assert product.attributes == {"grade": "A", "sizes": [1, 2]}


CONTACTS = ["Email", "First name", "Last name", "Company", "Stage", "Birth date"]


def test_it_reads_text_cells_by_the_text_rules_on_the_common_path(org, owner, tmp_path):
    # The engine skips the text parser for a value it would keep as is: an exported formula's
    # apostrophe and a value over the field's length still take the parser's way.
    rows = [
        CONTACTS,
        ["a@x.com", "'=1+2", "Lee", "", "", ""],
        ["b@x.com", "B" * 101, "Lee", "", "", ""],
        ["c@x.com", "  Cleo  ", "Lee", "", "", ""],
    ]
    job = run_import(org, owner, "contacts", tmp_path, rows)
    assert (job.summary["created"], job.summary["failed"]) == (2, 1)
    assert Contact.objects.get(organization=org, email="a@x.com").first_name == "=1+2"
    assert Contact.objects.get(organization=org, email="c@x.com").first_name == "Cleo"
    assert log_messages(job) == [
        f"Row 3, column 'First name': '{'B' * 57}...' is too long (101 characters; at most 100)"
    ]


def test_it_reads_each_repeated_date_and_choice_alike_and_fails_each_bad_one(
    org, owner, tmp_path, settings
):
    # Parsers remember the texts they read; a bad text is refused every time it comes, in
    # every batch.
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    rows = [CONTACTS]
    for i in range(6):
        birth = "31/02/1990" if i % 3 == 2 else "03/04/1990"
        stage = ["Customer", "customer", "CUSTOMER "][i % 3]
        rows.append([f"p{i}@x.com", "Ann", "Lee", "", stage, birth])
    job = run_import(
        org, owner, "contacts", tmp_path, rows, date_formats={"birth_date": "%d/%m/%Y"}
    )
    assert (job.summary["created"], job.summary["failed"]) == (4, 2)
    got = Contact.objects.filter(organization=org).values_list("birth_date", "lifecycle_stage")
    assert set(got) == {(dt.date(1990, 4, 3), "customer")}
    assert [m.split(":")[0] for m in log_messages(job)] == [
        "Row 4, column 'Birth date'",
        "Row 7, column 'Birth date'",
    ]


def test_it_names_no_column_of_a_conflicting_repeat_past_the_values_it_keeps(
    org, owner, tmp_path, monkeypatch
):
    # The first rows' values are kept for the side by side up to a limit (memory stays flat);
    # a conflict with a row past it still fails, naming the key's column instead.
    monkeypatch.setattr(identity, "REPEAT_DETAIL_LIMIT", 1)
    rows = [
        ["Email", "Phone"],
        ["a@x.com", "1"],
        ["b@x.com", "2"],
        ["a@x.com", "11"],
        ["b@x.com", "22"],
    ]
    job = run_import(org, owner, "contacts", tmp_path, rows)
    assert (job.summary["created"], job.summary["failed"]) == (2, 2)
    assert log_messages(job) == [
        "Row 4, column 'Phone': email 'a@x.com' is also on row 2 with another phone: "
        "'1' there, '11' here (choose which row wins: repeats first or last)",
        "Row 5, column 'Email': email 'b@x.com' is also on row 3 with other values "
        "(choose which row wins: repeats first or last)",
    ]


@pytest.mark.parametrize("policy", ["fail", "first", "last"])
def test_it_settles_repeats_of_a_fallback_key_by_the_policy(org, owner, tmp_path, policy):
    AccountFactory(organization=org, name="Acme")
    rows = [
        ["Email", "First name", "Last name", "Company", "Phone"],
        ["", "Ann", "Lee", "Acme", "1"],
        ["", "Ann", "Lee", "Acme", "1"],
        ["", "Ann", "Lee", "Acme", "2"],
    ]
    job = run_import(org, owner, "contacts", tmp_path, rows, repeats=policy)
    s = job.summary
    assert (s["repeats_merged"], s["repeats_conflicting"]) == (1, 1)
    assert s["keys_used"] == {"first_name + last_name + account": 3}
    text = (
        "Row 4, column 'Phone': first name + last name + account 'Ann, Lee, Acme' is also on "
        "row 2 with another phone: '1' there, '2' here"
    )
    level = "error" if policy == "fail" else "warning"
    assert [m.split(" (")[0] for m in log_messages(job, level)] == [text]
    contact = Contact.objects.get(organization=org)
    assert contact.phone == ("2" if policy == "last" else "1")
    assert s["created"] == 1 and s["failed"] == (1 if policy == "fail" else 0)
