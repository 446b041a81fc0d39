"""A real Huey consumer runs imports queued by the services, end to end."""

from __future__ import annotations

import pytest

from business.models import Contact
from jobs.models import DataJob
from tests.wizard.test_engine import draft, media_in_tmp, write_file  # noqa: F401
from wizard.models import ImportRow
from wizard.services import import_preview_start, import_row_edit, import_start, import_undo

pytestmark = pytest.mark.consumer


def test_it_previews_and_imports_in_a_real_consumer(
    org, owner, huey_consumer, job_waiter, tmp_path
):
    path = write_file(
        tmp_path,
        [
            ["Email", "First name", "Company"],
            ["a@x.com", "Ann", "Acme"],
            ["b@x.com", "Bob", "Acme"],
            ["bad", "Cy", ""],
        ],
    )
    job = draft(org, owner, "contacts", path, create_missing={"account": True})
    child = job_waiter(import_preview_start(job=job))
    assert child.status == DataJob.Status.COMPLETED, huey_consumer.log_path.read_text()
    assert (child.summary["would_create"], child.summary["invalid"]) == (2, 1)
    assert ImportRow.objects.filter(job=job).count() == 3
    assert not Contact.objects.exists()
    import_row_edit(job=job, row_number=4, column="Email", value="cy@x.com")
    job = job_waiter(import_start(job=job))
    assert job.status == DataJob.Status.COMPLETED, huey_consumer.log_path.read_text()
    assert job.task_id
    assert (job.summary["created"], job.summary["failed"]) == (3, 0)
    assert sorted(Contact.objects.values_list("email", "account__name")) == [
        ("a@x.com", "Acme"),
        ("b@x.com", "Acme"),
        ("cy@x.com", None),
    ]
    assert (job.total, job.processed, job.succeeded) == (3, 3, 3)
    assert import_undo(job=job, user=owner).deleted == 4
    assert not Contact.objects.exists()


def test_it_reports_a_rolled_back_import_from_the_consumer(
    org, owner, huey_consumer, job_waiter, tmp_path
):
    path = write_file(tmp_path, [["Email"], ["a@x.com"], ["nope"]])
    job = job_waiter(import_start(job=draft(org, owner, "contacts", path, mode="atomic")))
    assert job.status == DataJob.Status.FAILED
    assert job.error_message.startswith("Nothing was imported: 1 row has errors")
    assert job.summary["rolled_back"] is True
    assert job.summary["files"]["failed-rows"]["filename"] == "data-failed-rows.csv"
    assert not Contact.objects.exists()
