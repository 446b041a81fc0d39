"""The worker's side of every export: one task, whatever the exporter."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from jobs.services import job_run


@db_task()
def export_task(job_id: int) -> None:
    from reports.exporters.services import export_run

    job_run(job_id, lambda job, progress: export_run(job=job, progress=progress))
