"""The import's Huey task: the body is ``import_run``, the lifecycle is ``job_run``'s."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from jobs.services import job_run


@db_task()
def import_task(job_id: int) -> None:
    from wizard.services import import_run

    job_run(job_id, lambda job, progress: import_run(job=job, progress=progress))
