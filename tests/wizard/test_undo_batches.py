"""The change log notes a batch's created records as one row of key ranges: undo stays exact
(only what the run created, never what came later or another organization's), keeps a note of
what it kept, and still undoes runs recorded the old way, one row per record."""

from __future__ import annotations

from business.models import Contact
from tests.factories import ContactFactory
from tests.wizard.test_engine import media_in_tmp, run_import  # noqa: F401
from wizard.engine.undo import changes_created_ids
from wizard.engine.writing import changes_record
from wizard.models import ImportChange
from wizard.models.changes import ids_expand, ids_ranges
from wizard.services import import_undo

ROWS = [["Email", "First name"], ["a@x.com", "A"], ["b@x.com", "B"], ["c@x.com", "C"]]


def test_it_notes_keys_as_ranges():
    assert ids_ranges([7, 3, 4, 5, 9, 10]) == [[3, 5], [7, 7], [9, 10]]
    assert ids_expand([[3, 5], [7, 7], [9, 10]]) == [3, 4, 5, 7, 9, 10]
    assert ids_ranges([]) == []


def test_it_notes_one_batch_in_one_row(org, owner, tmp_path):
    job = run_import(org, owner, "contacts", tmp_path, ROWS)
    created = ImportChange.objects.get(job=job, action="created")
    pks = sorted(Contact.objects.values_list("pk", flat=True))
    assert created.ids == [[pks[0], pks[-1]]] and created.object_id == pks[0]
    assert changes_created_ids(job=job) == pks


def test_it_deletes_only_the_noted_keys_between_a_batchs_gaps(org, owner, tmp_path):
    # Someone else's record sits between two records the run created (keys interleaved).
    first, theirs, last = (ContactFactory(organization=org) for _ in range(3))
    job = run_import(org, owner, "contacts", tmp_path, ROWS[:2])
    changes_record(job_id=job.pk, resource="contacts", created=[first.pk, last.pk])
    result = import_undo(job=job, user=owner)
    assert result.deleted == 3
    assert list(Contact.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_it_never_reaches_another_organizations_record_inside_a_range(
    org, other_org, owner, tmp_path
):
    ours = ContactFactory(organization=org)
    rival = ContactFactory(organization=other_org)
    job = run_import(org, owner, "contacts", tmp_path, ROWS[:2])
    low, high = sorted([ours.pk, rival.pk])
    ImportChange.objects.create(
        job=job, resource="contacts", object_id=low, action="created", ids=[[low, high]]
    )
    import_undo(job=job, user=owner)
    assert list(Contact.objects.values_list("pk", flat=True)) == [rival.pk]


def test_it_keeps_the_note_of_what_it_kept_until_a_forced_undo(org, owner, tmp_path):
    job = run_import(org, owner, "contacts", tmp_path, ROWS)
    b = Contact.objects.get(email="b@x.com")
    b.first_name = "Edited"
    b.save()
    result = import_undo(job=job, user=owner)
    assert (result.deleted, result.skipped_conflicts) == (2, 1)
    kept = ImportChange.objects.get(job=job)
    assert (kept.object_id, kept.ids) == (b.pk, [[b.pk, b.pk]])
    assert import_undo(job=job, user=owner, force=True).deleted == 1
    assert not Contact.objects.exists() and not ImportChange.objects.exists()


def test_it_forgets_the_keys_of_records_deleted_since(org, owner, tmp_path):
    job = run_import(org, owner, "contacts", tmp_path, ROWS)
    Contact.objects.filter(email="a@x.com").delete()
    result = import_undo(job=job, user=owner)
    assert (result.deleted, result.skipped_conflicts) == (2, 0)
    assert not Contact.objects.exists() and not ImportChange.objects.exists()


def test_it_undoes_a_run_recorded_one_row_per_record(org, owner, tmp_path):
    """Change logs written before batches were noted as ranges: a row per record, no ``ids``."""
    ContactFactory(organization=org, email="a@x.com", first_name="Old")
    job = run_import(org, owner, "contacts", tmp_path, ROWS, on_duplicate="update")
    ImportChange.objects.filter(job=job, action="created").delete()
    for pk in Contact.objects.exclude(email="a@x.com").values_list("pk", flat=True):
        ImportChange.objects.create(job=job, resource="contacts", object_id=pk, action="created")
    assert changes_created_ids(job=job) == sorted(
        Contact.objects.exclude(email="a@x.com").values_list("pk", flat=True)
    )
    result = import_undo(job=job, user=owner)
    assert (result.deleted, result.restored) == (2, 1)
    assert list(Contact.objects.values_list("email", "first_name")) == [("a@x.com", "Old")]
    assert not ImportChange.objects.filter(job=job).exists()
