"""The worker's side of a document batch."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from jobs.services import job_run


@db_task()
def documents_task(job_id: int) -> None:
    from reports.documents.services import documents_batch_run

    job_run(job_id, lambda job, progress: documents_batch_run(job=job, progress=progress))
