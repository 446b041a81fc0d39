"""The wizard's Huey tasks: the body is the service's, the lifecycle is ``job_run``'s."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from jobs.services import job_run


@db_task()
def import_task(job_id: int) -> None:
    from wizard.services import import_run

    job_run(job_id, lambda job, progress: import_run(job=job, progress=progress))


@db_task()
def failed_rows_task(job_id: int) -> None:
    """One pass of a fixed failed-rows file into its import (wizard.rerun)."""
    from wizard.rerun import failed_rows_run

    job_run(job_id, lambda job, progress: failed_rows_run(job=job, progress=progress))


@db_task()
def multi_import_task(job_id: int) -> None:
    """A file imported as several record types, one engine pass per type (wizard.multi)."""
    from wizard.multi import multi_import_work

    job_run(job_id, lambda job, progress: multi_import_work(job=job, progress=progress))
