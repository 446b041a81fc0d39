"""Queueing runs: every due slot claimed once (the periodic tick), a run triggered by hand, or
a run's job run in this process.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_create, job_queue
from reports.schedules.exporters import target_get
from reports.schedules.models import Schedule, ScheduleRun
from reports.schedules.services.common import _audit, _next, _require_manager, setting
from reports.schedules.services.running import schedule_run_execute

logger = logging.getLogger(__name__)


def _queue_run(
    *,
    schedule: Schedule,
    slot: dt.datetime,
    manual: bool,
    late: bool,
    user=None,
    queue: bool = True,
) -> ScheduleRun:
    """Create the run and its job and queue it (the caller holds a transaction); with
    ``queue=False`` the caller runs the job itself (the command line)."""
    try:
        target = target_get(organization=schedule.organization, identifier=schedule.exporter)
        job_type, name = target.job_type, target.name
    except FerryError:
        job_type, name = DataJob.Type.EXPORT, schedule.exporter
    run = ScheduleRun.objects.create(
        schedule=schedule,
        organization=schedule.organization,
        slot=slot,
        manual=manual,
        late=late,
        triggered_by=user,
    )
    job = job_create(
        organization=schedule.organization,
        user=schedule.owner,
        job_type=job_type,
        target=schedule.exporter[:64],
        format=schedule.formats[0] if len(schedule.formats) == 1 else "",
        params={
            "schedule": schedule.pk,
            "schedule_run": run.pk,
            "schedule_name": schedule.name,
            "exporter_name": name,
            "formats": schedule.formats,
            "result_url": f"/export/schedules/{schedule.pk}/history/{run.pk}/",
        },
    )
    ScheduleRun.objects.filter(pk=run.pk).update(job=job)
    run.job = job
    if queue:
        from reports.schedules.tasks import schedule_run_task

        job_queue(job=job, task=schedule_run_task)
    return run


def schedules_claim_due(*, now: dt.datetime | None = None) -> list[ScheduleRun]:
    """Claim every due slot once and queue its run (the periodic tick calls this)."""
    now = now or timezone.now()
    late_after = dt.timedelta(seconds=setting("SCHEDULE_LATE_AFTER_SECONDS"))
    runs: list[ScheduleRun] = []
    due = Schedule.objects.filter(is_active=True, next_run_at__lte=now).select_related(
        "organization", "owner"
    )
    for schedule in due:
        slot = schedule.next_run_at
        try:
            following = _next(schedule, after=now)
        except FerryError:
            following = None
        try:
            with transaction.atomic():
                claimed = Schedule.objects.filter(
                    pk=schedule.pk, is_active=True, next_run_at=slot
                ).update(next_run_at=following, last_run_at=now)
                if not claimed:
                    continue  # another worker took this slot
                runs.append(
                    _queue_run(
                        schedule=schedule, slot=slot, manual=False, late=now - slot > late_after
                    )
                )
        except IntegrityError:
            # The unique (schedule, slot) row already exists: the slot has run.
            logger.info("Slot %s of schedule %s already claimed", slot, schedule.pk)
    return runs


def schedule_trigger(
    *, schedule: Schedule, user=None, request=None, queue: bool = True, via: str = ""
) -> ScheduleRun:
    """Run now, outside the recurrence (the next scheduled slot is unchanged). ``user`` is
    the person asking (checked); the command line passes none and runs as the owner."""
    if user is not None:
        _require_manager(organization=schedule.organization, user=user)
    with transaction.atomic():
        run = _queue_run(
            schedule=schedule, slot=timezone.now(), manual=True, late=False, user=user, queue=queue
        )
        details = {"run": run.pk, **({"via": via} if via else {})}
        _audit(schedule, user=user, action="triggered", request=request, **details)
    return run


def schedule_run_here(*, run: ScheduleRun) -> ScheduleRun:
    """Run a run's job in this process (the command line; tests) instead of on a worker."""
    from jobs.services import job_run

    job_run(run.job_id, lambda job, progress: schedule_run_execute(job=job, progress=progress))
    run.refresh_from_db()
    return run
