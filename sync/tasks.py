"""The sync's Huey tasks: one sync run (a normal job), and the minute tick that queues due syncs."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from jobs.services import job_run


@db_task()
def sync_task(job_id: int) -> None:
    from sync.services import sync_job_work

    job_run(job_id, lambda job, progress: sync_job_work(job=job, progress=progress))


@db_periodic_task(crontab(minute="*"))
# Every consumer schedules periodic tasks; the lock keeps two ticks from overlapping.
@lock_task("ferry-auto-sync")
def auto_sync_task() -> None:
    from sync.services import syncs_due_queue

    syncs_due_queue()
