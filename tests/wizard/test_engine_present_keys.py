"""A table small beside the file has its keys read once at the start (``Identity._present_keys``):
each batch then looks up only the rows whose key was there. The outcome is the one of a run
that asks the database for every batch's keys, also when someone else makes a record with one
of the file's keys meanwhile, and when a later row of the file repeats a record the run made."""

from __future__ import annotations

import pytest

from business.models import Contact
from wizard.engine import identity, matching
from wizard.services import import_run_now

from .test_engine import draft, write_file
from .test_write_path import engine_run

pytestmark = pytest.mark.django_db

HEADERS = ["Email", "First name"]


@pytest.fixture
def small_batches(settings):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 50}


@pytest.fixture
def asked(monkeypatch):
    """The keys each batch asked the database about."""
    calls: list[list[tuple]] = []
    real = matching.existing_lookup

    def lookup(**kwargs):
        calls.append(list(kwargs["keys"]))
        return real(**kwargs)

    monkeypatch.setattr(matching, "existing_lookup", lookup)
    return calls


def _existing(org, n=30):
    Contact.objects.bulk_create(
        Contact(organization=org, email=f"c{i}@x.com", first_name="Old") for i in range(n)
    )


def _rows(n=200, name="New"):
    return [HEADERS] + [[f"c{i}@x.com", f"{name} {i}"] for i in range(n)]


def _state(org):
    return sorted(Contact.objects.filter(organization=org).values_list("email", "first_name"))


def _run(org, owner, tmp_path, rows, name, **configure):
    job = draft(org, owner, "contacts", write_file(tmp_path, rows, name=name), **configure)
    return import_run_now(job=job)


def test_only_keys_that_were_there_are_looked_up_with_the_same_outcome(
    org, owner, tmp_path, small_batches, asked, monkeypatch
):
    _existing(org)
    job = _run(org, owner, tmp_path, _rows(), "a.csv", on_duplicate="update")
    assert job.status == "completed", job.error_message
    assert (job.summary["created"], job.summary["updated"]) == (170, 30)
    # Four batches of 50: only the first batch's 30 keys were in the table.
    assert sum(len(keys) for keys in asked) == 30
    with_present = _state(org)

    # The same with every batch's keys asked (no keys read at the start).
    Contact.objects.filter(organization=org).delete()
    _existing(org)
    asked.clear()
    monkeypatch.setattr(identity, "PRESENT_LIMIT", 0)
    job = _run(org, owner, tmp_path, _rows(), "b.csv", on_duplicate="update")
    assert (job.summary["created"], job.summary["updated"]) == (170, 30)
    assert sum(len(keys) for keys in asked) == 200
    assert _state(org) == with_present


def test_a_table_bigger_than_the_limit_is_asked_batch_by_batch(
    org, owner, tmp_path, small_batches, asked, monkeypatch
):
    _existing(org)
    monkeypatch.setattr(identity, "PRESENT_LIMIT", 29)
    job = _run(org, owner, tmp_path, _rows(), "a.csv", on_duplicate="update")
    assert (job.summary["created"], job.summary["updated"]) == (170, 30)
    assert sum(len(keys) for keys in asked) == 200


class _MeanwhileProgress:
    """Someone else makes a contact with a key of a later batch while the run is under way."""

    def __init__(self, org):
        self.org = org
        self.checks = 0

    def set_total(self, total):
        pass

    def update(self, **counts):
        return False

    def check_cancel(self, **kwargs):
        self.checks += 1
        if self.checks == 3:
            Contact.objects.create(organization=self.org, email="c150@x.com", first_name="Theirs")


def test_a_record_made_meanwhile_is_updated_not_made_twice(
    org, owner, tmp_path, small_batches, settings
):
    _existing(org)
    job = draft(
        org, owner, "contacts", write_file(tmp_path, _rows(), name="a.csv"), on_duplicate="update"
    )
    run = engine_run(job, tmp_path / "a.csv", progress=_MeanwhileProgress(org), overlap=False)
    run.row_estimate = 200
    summary = run.execute()
    assert Contact.objects.filter(organization=org, email="c150@x.com").count() == 1
    assert Contact.objects.get(organization=org, email="c150@x.com").first_name == "New 150"
    assert (summary["created"], summary["updated"], summary["failed"]) == (169, 31, 0)


def test_a_later_row_repeating_a_record_the_run_made_updates_it(
    org, owner, tmp_path, small_batches, asked, monkeypatch
):
    rows = _rows(120)
    rows.append(["c7@x.com", "Later"])  # batch three repeats a key batch one created
    states = []
    for limit in (identity.PRESENT_LIMIT, 0):
        monkeypatch.setattr(identity, "PRESENT_LIMIT", limit)
        Contact.objects.filter(organization=org).delete()
        _existing(org, 5)
        job = _run(org, owner, tmp_path, rows, f"r{limit}.csv", repeats="last")
        assert job.status == "completed", job.error_message
        assert Contact.objects.get(organization=org, email="c7@x.com").first_name == "Later"
        states.append((_state(org), job.summary["created"], job.summary["failed"]))
    assert states[0] == states[1]
