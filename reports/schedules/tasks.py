"""Huey tasks: the minute tick, a run, a delivery retry, daily retention, the weekly summary."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jobs.services import job_run

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def schedules_tick() -> None:
    from reports.schedules.services import schedules_claim_due

    schedules_claim_due()


@db_task()
def schedules_tick_now() -> int:
    """The same as the tick, queued on demand (tests start it on several consumers at once)."""
    from reports.schedules.services import schedules_claim_due

    return len(schedules_claim_due())


@db_task()
def schedule_run_task(job_id: int) -> None:
    from reports.schedules.services import schedule_run_execute

    job_run(job_id, lambda job, progress: schedule_run_execute(job=job, progress=progress))


@db_task()
def schedule_deliver_task(run_id: int, attempt: int) -> None:
    from reports.schedules.delivery import schedule_run_deliver
    from reports.schedules.models import ScheduleRun

    run = ScheduleRun.objects.filter(pk=run_id).first()
    if run is None:
        return  # the schedule was deleted meanwhile
    schedule_run_deliver(run=run, attempt=attempt)


@db_periodic_task(crontab(minute="17", hour="3"))
def schedule_files_purge_task() -> None:
    from reports.schedules.services import schedule_files_purge

    schedule_files_purge()


@db_periodic_task(crontab(minute="0", hour="6", day_of_week="1"))
def schedules_weekly_summary_task() -> None:
    from accounts.models import Organization
    from reports.schedules.delivery import weekly_summary_send

    for organization in Organization.objects.all():
        try:
            weekly_summary_send(organization=organization)
        except Exception:
            logger.exception("Weekly schedules summary for %s failed", organization.pk)
