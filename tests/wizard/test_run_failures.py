"""A run that fails leaves nothing behind it should not.

Records "create missing" makes belong to the run: in an all-or-nothing run they share its
transaction; in a skip-invalid run each batch's are written with the batch and recorded for
undo. A batch the database refuses is reported against its rows, never as a generic crash
that leaves writes behind. Validation catches what the database would refuse.
"""

from __future__ import annotations

import pytest

from business.models import Account, Contact
from jobs.models import JobLogEntry
from tests.wizard.test_engine import log_messages, media_in_tmp, run_import  # noqa: F401
from wizard.engine.undo import changes_created_ids
from wizard.models import ImportChange
from wizard.services import import_undo, import_undo_plan

ROWS = [["First name", "Company", "Email"]] + [[f"P{i}", f"Co{i}", f"p{i}@x.com"] for i in range(6)]


# --- validation: a constant for a unique field --------------------------------------------------


@pytest.mark.parametrize("mode", ["skip-invalid", "atomic"])
def test_it_reports_a_constant_email_as_a_duplicate_from_the_second_row(org, owner, tmp_path, mode):
    rows = [[first, company] for first, company, _ in ROWS]
    preview = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        rows,
        options={"email": {"constant": "same@x.com"}},
        create_missing={"account": True},
        mode=mode,
        dry_run=True,
    )
    s = preview.summary
    assert (s["would_create"], s["invalid"]) == (1, 5)
    # Every row but the first repeats its key with other values, column by column.
    assert log_messages(preview)[:2] == [
        "Row 3, column 'First name': email 'same@x.com' is also on row 2 with another "
        "first name: 'P0' there, 'P1' here (choose which row wins: repeats first or last)",
        "Row 3, column 'Company': email 'same@x.com' is also on row 2 with another "
        "account: 'Co0' there, 'Co1' here (choose which row wins: repeats first or last)",
    ]
    assert sorted({e["row"] for e in s["errors"]}) == [3, 4, 5, 6, 7]
    assert not Account.objects.exists() and not Contact.objects.exists()


def test_it_runs_a_constant_email_without_leaving_accounts_for_failed_rows(org, owner, tmp_path):
    rows = [[first, company] for first, company, _ in ROWS]
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        rows,
        options={"email": {"constant": "same@x.com"}},
        create_missing={"account": True},
    )
    assert job.status == "completed", job.error_message
    assert (job.summary["created"], job.summary["failed"]) == (1, 5)
    # Only the account of the row that was imported was created, and undo takes both back.
    assert list(Account.objects.values_list("name", flat=True)) == ["Co0"]
    assert import_undo_plan(job=job).deleted_count() == 2
    import_undo(job=job, user=owner)
    assert not Account.objects.exists() and not Contact.objects.exists()


def test_it_reports_a_constant_for_a_unique_rule_as_a_duplicate(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email"]] + [[e] for _, _, e in ROWS[1:]],
        options={"phone": {"constant": "+44 1234"}},
        rules={"phone": {"unique": True}},
        dry_run=True,
    )
    assert (job.summary["would_create"], job.summary["invalid"]) == (1, 5)
    assert (
        "'+44 1234' appears more than once in this file (must be unique)" in (log_messages(job)[0])
    )


# --- a batch the database refuses ------------------------------------------------------------


@pytest.fixture
def race_on_second_batch(settings, monkeypatch, org):
    """Another writer creates account 'Co2' between the lookup and the create of batch 2."""
    import wizard.engine.matching as matching

    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    real = matching.references_lookup

    raced = []

    def lookup(**kwargs):
        found = real(**kwargs)
        # The run's second batch looks up exactly its two companies (other callers, such as
        # the mapping suggestions, look up the whole sample): the other writer strikes once.
        if set(kwargs["values"]) == {"Co2", "Co3"} and not raced:
            raced.append(True)
            Account.objects.create(organization=org, name="Co2")
        return found

    monkeypatch.setattr(matching, "references_lookup", lookup)


def test_it_reports_a_refused_batch_against_its_rows_and_keeps_nothing_of_it(
    org, owner, tmp_path, race_on_second_batch
):
    job = run_import(org, owner, "contacts", tmp_path, ROWS, create_missing={"account": True})
    assert job.status == "completed", job.error_message
    s = job.summary
    assert (s["created"], s["failed"], s["total"]) == (4, 2, 6)
    messages = log_messages(job)
    assert [m.split(":")[0] for m in messages] == ["Row 4", "Row 5"]
    assert all("could not be saved" in m for m in messages)
    # Batch 2 left nothing: no contact, no account of its own (the other writer's went with
    # the savepoint too, since it wrote on the same connection in this test).
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "p0@x.com",
        "p1@x.com",
        "p4@x.com",
        "p5@x.com",
    }
    assert set(Account.objects.values_list("name", flat=True)) == {"Co0", "Co1", "Co4", "Co5"}
    assert s["references_created"] == {"accounts": 4}
    # Everything that stayed is recorded, so undo takes back all of it and only it.
    assert len(changes_created_ids(job=job)) == 8
    plan = import_undo_plan(job=job)
    assert plan.deleted_count() == 8 and not plan.conflicts
    import_undo(job=job, user=owner)
    assert not Contact.objects.exists() and not Account.objects.exists()


def test_it_rolls_an_all_or_nothing_run_back_when_the_database_refuses_a_batch(
    org, owner, tmp_path, race_on_second_batch
):
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        ROWS,
        create_missing={"account": True},
        mode="atomic",
    )
    assert job.status == "failed"
    assert "Nothing was imported" in job.error_message
    assert job.summary["rolled_back"] is True
    assert (job.summary["created"], job.summary["failed"]) == (0, 2)
    assert all("could not be saved" in m for m in log_messages(job))
    assert not Contact.objects.exists()
    assert not Account.objects.exists()
    assert not ImportChange.objects.filter(job=job).exists()
    assert job.succeeded == 0


def test_it_keeps_the_orders_of_a_refused_batch_out_entirely(
    org, owner, tmp_path, settings, monkeypatch
):
    """Orders with lines: the batch's orders, lines and created references fall together."""
    from business.models import SalesOrder, SalesOrderLine
    from tests.factories import CustomerFactory, ProductFactory
    from wizard.engine.orders import OrdersRun

    CustomerFactory(organization=org, code="C1")
    ProductFactory(organization=org, sku="P1")
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    real = OrdersRun.write_groups
    calls = []

    def write_groups(self, groups):
        calls.append(1)
        real(self, groups)
        if len(calls) == 2:
            # The database refuses the batch after its orders went in (a concurrent order
            # with the same number, say): a real IntegrityError from writing one again.
            SalesOrder.objects.create(
                organization=org, number="SO-3", customer=SalesOrder.objects.first().customer
            )

    monkeypatch.setattr(OrdersRun, "write_groups", write_groups)
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [["Order No", "Customer", "Order date", "SKU", "Qty", "Price"]]
        + [[f"SO-{i}", "C1", "2024-03-01", "P1", "1", "2"] for i in range(1, 5)],
    )
    assert job.status == "completed", job.error_message
    assert sorted(SalesOrder.objects.values_list("number", flat=True)) == ["SO-1", "SO-2"]
    assert SalesOrderLine.objects.count() == 2
    assert job.summary["failed"] == 2
    assert JobLogEntry.objects.filter(job=job, message__contains="could not be saved").count() == 2
