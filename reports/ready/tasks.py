"""Report tasks: the worker renders a queued report job."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from jobs.services import job_run


@db_task()
def report_task(job_id: int) -> None:
    from reports.ready.services import report_run

    job_run(job_id, lambda job, progress: report_run(job=job, progress=progress))
