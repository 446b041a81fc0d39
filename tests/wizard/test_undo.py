"""Undoing a finished import: created records deleted, updated ones restored, later edits kept."""

from __future__ import annotations

import pytest
from django.utils import timezone

from business.models import Account, AuditEvent, Contact
from jobs.errors import FerryError
from tests.factories import ContactFactory
from tests.wizard.test_engine import draft, media_in_tmp, run_import, write_file  # noqa: F401
from wizard.models import ImportChange
from wizard.services import import_undo


def test_it_deletes_created_and_restores_updated_records(org, owner, tmp_path):
    ContactFactory(organization=org, email="a@x.com", first_name="Old", phone="1")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "First name", "Company"], ["a@x.com", "New", "Acme"], ["b@x.com", "B", "Acme"]],
        on_duplicate="update",
        create_missing={"account": True},
    )
    assert (job.summary["created"], job.summary["updated"]) == (1, 1)
    result = import_undo(job=job, user=owner)
    assert (result.deleted, result.restored, result.conflicts, result.skipped_conflicts) == (
        2,
        1,
        [],
        0,
    )
    a = Contact.objects.get(email="a@x.com")
    assert (a.first_name, a.phone, a.account_id) == ("Old", "1", None)
    assert not Contact.objects.filter(email="b@x.com").exists()
    assert not Account.objects.exists()
    event = AuditEvent.objects.get(event_type="import_undo")
    assert event.details["deleted"] == 2 and event.user == owner
    job.refresh_from_db()
    assert job.summary["undo"]["deleted"] == 2
    with pytest.raises(FerryError, match="already been undone"):
        import_undo(job=job, user=owner)


def test_it_keeps_records_edited_since_the_import_unless_forced(org, owner, tmp_path):
    ContactFactory(organization=org, email="a@x.com", first_name="Old")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "First name"], ["a@x.com", "New"], ["b@x.com", "B"], ["c@x.com", "C"]],
        on_duplicate="update",
    )
    # Someone edits two of the imported records afterwards.
    a = Contact.objects.get(email="a@x.com")
    a.first_name = "Edited"
    a.save()
    b = Contact.objects.get(email="b@x.com")
    b.title = "CEO"
    b.save()
    result = import_undo(job=job, user=owner)
    assert (result.deleted, result.restored, result.skipped_conflicts) == (1, 0, 2)
    assert result.conflicts == [
        "Contact 'a@x.com' was changed after the import; it was kept.",
        "Contact 'b@x.com' was changed after the import; it was kept.",
    ]
    assert Contact.objects.get(email="a@x.com").first_name == "Edited"
    assert Contact.objects.filter(email="b@x.com").exists()
    assert not Contact.objects.filter(email="c@x.com").exists()
    # Forced, the rest goes too.
    forced = import_undo(job=job, user=owner, force=True)
    assert (forced.deleted, forced.restored, forced.skipped_conflicts) == (1, 1, 0)
    assert Contact.objects.get(email="a@x.com").first_name == "Old"
    assert not Contact.objects.filter(email="b@x.com").exists()
    assert not ImportChange.objects.filter(job=job).exists()


def test_it_undoes_what_a_cancelled_run_wrote(org, owner, tmp_path, settings):
    from jobs.services import job_run
    from tests.wizard.test_engine import CancelAfter
    from wizard.services import import_run

    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    path = write_file(tmp_path, [["Email"]] + [[f"{i}@x.com"] for i in range(6)])
    job = draft(org, owner, "contacts", path)
    job_run(job.pk, lambda j, p: import_run(job=j, progress=CancelAfter(j, 1)))
    job.refresh_from_db()
    assert job.status == "cancelled" and Contact.objects.count() == 2
    assert import_undo(job=job, user=owner).deleted == 2
    assert not Contact.objects.exists()


def test_it_refuses_to_undo_a_draft_a_dry_run_or_an_export(org, owner, tmp_path):
    from jobs.services import job_create

    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    with pytest.raises(FerryError, match="once it has finished"):
        import_undo(job=draft(org, owner, "contacts", path), user=owner)
    dry = run_import(org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"]], dry_run=True)
    with pytest.raises(FerryError, match="nothing to undo"):
        import_undo(job=dry, user=owner)
    export = job_create(organization=org, user=owner, job_type="export", target="contacts")
    with pytest.raises(FerryError, match="not an import"):
        import_undo(job=export, user=owner)


def test_it_keeps_a_created_record_that_another_record_now_needs(org, owner, tmp_path):
    from tests.factories import ProductFactory, SalesOrderLineFactory

    job = run_import(
        org, owner, "products", tmp_path, [["SKU", "Name"], ["P1", "One"], ["P2", "Two"]]
    )
    # An order line made afterwards protects P1 (on_delete=PROTECT).
    p1 = ProductFactory._meta.model.objects.get(sku="P1")
    SalesOrderLineFactory(order__customer__organization=org, product=p1)
    from business.models import Product

    Product.objects.filter(pk=p1.pk).update(updated_at=job.finished_at)
    result = import_undo(job=job, user=owner)
    assert result.deleted == 1
    assert result.conflicts == [
        "Product 'P1 One' is used by 1 sales order line this import did not create; it was kept."
    ]
    assert list(Product.objects.values_list("sku", flat=True)) == ["P1"]


def test_it_notices_a_record_deleted_since(org, owner, tmp_path):
    ContactFactory(organization=org, email="a@x.com", first_name="Old")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [["Email", "First name"], ["a@x.com", "New"]],
        on_duplicate="update",
    )
    Contact.objects.all().delete()
    result = import_undo(job=job, user=owner)
    assert result.restored == 0 and result.skipped_conflicts == 1
    assert "was deleted after the import" in result.conflicts[0]


def test_it_treats_an_edit_after_the_import_end_as_an_edit(org, owner, tmp_path):
    job = run_import(org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"]])
    Contact.objects.update(updated_at=timezone.now())
    assert import_undo(job=job, user=owner).skipped_conflicts == 1
