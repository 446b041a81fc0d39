"""job_log writes the row log as plain rows: what each entry becomes, as a model would store it."""

import pytest
from django.db import transaction

from jobs.models import JobLogEntry
from jobs.services import job_log


def _stored(job):
    return list(
        JobLogEntry.objects.filter(job=job)
        .order_by("pk")
        .values_list("row_number", "column", "value", "message", "level", "kind")
    )


@pytest.mark.django_db(transaction=True)
def test_entries_take_the_model_defaults_and_keep_their_order(org, owner, make_job):
    job = make_job(org, owner)
    written = job_log(
        job=job,
        entries=[
            dict(row_number=3, column="Email", value=None, message="bad", kind="invalid_email"),
            dict(message="file note", level="warning"),
            dict(row_number=2, column="Price", value=12.5, message="too many", level="error"),
            JobLogEntry(row_number=4, column="Stage", value="x" * 3000, message="long"),
        ],
    )
    assert written == 4
    assert _stored(job) == [
        (3, "Email", "", "bad", "error", "invalid_email"),
        (None, "", "", "file note", "warning", None),
        (2, "Price", "12.5", "too many", "error", None),
        (4, "Stage", "x" * 2000, "long", "error", None),
    ]
    assert job_log(job=job, entries=[]) == 0
    with transaction.atomic():
        job_log(job=job, entries=[dict(row_number=5, message="in a transaction")])
    assert _stored(job)[-1][:1] == (5,)
    assert JobLogEntry.objects.filter(job=job).count() == 5


@pytest.mark.django_db
def test_an_unknown_attribute_is_refused(org, owner, make_job):
    job = make_job(org, owner)
    with pytest.raises(TypeError):
        job_log(job=job, entries=[dict(row=2, message="x")])
