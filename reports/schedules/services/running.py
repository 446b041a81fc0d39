"""A run's job: the owner's access checked at run time, every format rendered into the run's
files, the mail delivered; retried later after an unexpected error, and the failure counted
(paused after too many in a row).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_create
from reports.schedules import recurrence
from reports.schedules.exporters import (
    ExporterDenied,
    ExporterParamsInvalid,
    target_check,
    target_clean_params,
    target_get,
    target_render,
)
from reports.schedules.models import Schedule, ScheduleRun, ScheduleRunFile
from reports.schedules.services.common import (
    ScheduleAccessLost,
    ScheduleDeliveryFailed,
    Status,
    _membership,
    setting,
)
from reports.schedules.services.editing import schedule_pause

logger = logging.getLogger(__name__)


def schedule_run_execute(*, job: DataJob, progress, now: dt.datetime | None = None) -> dict:
    """The task body: check the owner's access now, render every format, deliver."""
    run = ScheduleRun.objects.select_related("schedule", "organization").get(job=job)
    schedule = run.schedule
    started = timezone.now()
    ScheduleRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, started_at=started)
    run.status, run.started_at = Status.RUNNING, started
    try:
        result = _render_files(run=run, schedule=schedule, progress=progress, now=now)
    except Exception as exc:
        # A FerryError (access lost, parameters no longer valid) fails the same way every
        # time; anything else may be passing (database, disk) and is tried again later.
        if not isinstance(exc, FerryError) and run.attempts < setting("SCHEDULE_RUN_TRIES"):
            _retry_later(run=run, exc=exc)
        else:
            schedule_run_fail(run=run, exc=exc)
        raise
    if schedule.only_when_rows and not run.rows:
        schedule_run_finish(run, Status.COMPLETED, note="Not e-mailed: the export had no rows.")
        _reset_failures(schedule)
        return result
    from reports.schedules.delivery import schedule_run_deliver

    # Still "running" while the first e-mail attempt is made: pages poll until the run settles.
    schedule_run_deliver(run=run, attempt=1)
    return result


def _retry_later(*, run: ScheduleRun, exc: BaseException) -> None:
    """Queue the run again on a new job after a doubling delay (the failed job stays failed on
    the jobs dashboard, with its reference in the server log)."""
    from reports.schedules.delivery import retry_delay
    from reports.schedules.tasks import schedule_run_task

    logger.warning("Schedule run %s: attempt %s failed", run.pk, run.attempts, exc_info=exc)
    tries = setting("SCHEDULE_RUN_TRIES")
    delay = retry_delay(run.attempts + 1)
    old = run.job
    job = job_create(
        organization=run.organization,
        user=old.user if old else run.schedule.owner,
        job_type=old.job_type if old else DataJob.Type.EXPORT,
        target=old.target if old else run.schedule.exporter[:64],
        format=old.format if old else "",
        params=old.params if old else {"schedule": run.schedule_id, "schedule_run": run.pk},
    )
    ScheduleRun.objects.filter(pk=run.pk).update(
        job=job,
        status=Status.QUEUED,
        attempts=F("attempts") + 1,
        note=f"Attempt {run.attempts} of {tries} stopped by an unexpected error (reference: "
        f"job {old.pk if old else '-'}); trying again in {int(delay)} s.",
    )
    # The job stays pending until the delayed task starts it (job_start takes pending jobs).
    transaction.on_commit(lambda: schedule_run_task.schedule((job.pk,), delay=delay))


def _render_files(*, run: ScheduleRun, schedule: Schedule, progress, now) -> dict:
    # Files of an earlier, failed attempt of this run are replaced.
    for old in run.files.all():
        if old.file:
            old.file.storage.delete(old.file.name)
    run.files.all().delete()
    organization = schedule.organization
    membership = _membership(organization=organization, user=schedule.owner)
    target = target_get(organization=organization, identifier=schedule.exporter)
    try:
        target_check(membership=membership, target=target, formats=schedule.formats)
    except ExporterDenied as exc:
        owner = schedule.owner.get_username() if schedule.owner else "a deleted user"
        raise ScheduleAccessLost(
            f"The schedule's owner ({owner}) may no longer run it: {exc.message} "
            "The schedule was paused.",
            code="access_lost",
        ) from exc
    params = dict(schedule.params or {})
    dates = recurrence.period_resolve(
        period=schedule.period, tz=schedule.timezone, now=now or timezone.now()
    )
    fields = target.period_fields
    if dates and fields:
        if len(fields) == 2:
            params[fields[0]], params[fields[1]] = dates[0].isoformat(), dates[1].isoformat()
        else:
            params[fields[0]] = dates[1].isoformat()
    try:
        params = target_clean_params(organization=organization, target=target, params=params)
    except ExporterParamsInvalid as exc:
        raise ScheduleDeliveryFailed(
            f"The schedule's parameters are no longer valid: {exc.message} Edit the schedule.",
            code="invalid_params",
        ) from exc
    period = recurrence.period_text(dates)
    local = timezone.now().astimezone(recurrence.zone_get(schedule.timezone))
    base = f"{_slug(schedule.name)}-{local:%Y%m%d-%H%M}"
    tmp = Path(tempfile.mkdtemp(prefix="ferry-schedule-"))
    rows = 0
    figures: list = []
    try:
        for fmt in schedule.formats:
            path = tmp / f"{base}.{fmt}"
            out = target_render(
                organization=organization,
                user=schedule.owner,
                target=target,
                params=params,
                format=fmt,
                path=path,
                progress=progress,
            )
            rows = out["rows"]
            figures = figures or out["key_figures"]
            record = ScheduleRunFile(run=run, format=fmt, filename=path.name)
            with open(path, "rb") as fh:
                record.file.save(path.name, File(fh), save=False)
            record.size = path.stat().st_size
            record.save()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ScheduleRun.objects.filter(pk=run.pk).update(rows=rows, key_figures=figures, period_text=period)
    run.rows, run.key_figures, run.period_text = rows, figures, period
    return {
        "schedule": schedule.name,
        "exporter": target.name,
        "rows": rows,
        "period": period or "as set",
        "files": ", ".join(f.filename for f in run.files.all()),
    }


def _slug(text: str) -> str:
    from django.utils.text import slugify

    return slugify(text)[:60] or "schedule"


def schedule_run_finish(run: ScheduleRun, status: str, **fields: Any) -> None:
    now = timezone.now()
    fields.setdefault("finished_at", run.finished_at or now)
    ScheduleRun.objects.filter(pk=run.pk).update(status=status, **fields)
    run.status = status
    for key, value in fields.items():
        setattr(run, key, value)


def _reset_failures(schedule: Schedule) -> None:
    Schedule.objects.filter(pk=schedule.pk).update(consecutive_failures=0)
    schedule.consecutive_failures = 0


def schedule_run_succeeded(*, run: ScheduleRun, recipients: list[str]) -> None:
    schedule_run_finish(
        run, Status.EMAILED, emailed_at=timezone.now(), recipients=recipients, error_message=""
    )
    _reset_failures(run.schedule)


def schedule_run_fail(
    *, run: ScheduleRun, exc: BaseException | None = None, message: str = ""
) -> None:
    """Record the failure (safe message), count it, pause when due and tell the owner."""
    if not message:
        if isinstance(exc, FerryError):
            message = exc.message
        else:
            message = (
                f"The run stopped because of an unexpected error (reference: schedule run "
                f"{run.pk}). The details are in the server log."
            )
            logger.error("Schedule run %s failed", run.pk, exc_info=exc)
    schedule_run_finish(run, Status.FAILED, error_message=message, note="")
    schedule = run.schedule
    Schedule.objects.filter(pk=schedule.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    schedule.refresh_from_db()
    limit = setting("SCHEDULE_MAX_FAILURES")
    reason = ""
    if isinstance(exc, ScheduleAccessLost):
        reason = message
    elif schedule.is_active and schedule.consecutive_failures >= limit:
        reason = (
            f"Paused after {schedule.consecutive_failures} failed runs in a row. "
            f"Last error: {message}"
        )
    from reports.schedules.delivery import notify_failure, notify_paused

    if reason and schedule.is_active:
        schedule_pause(schedule=schedule, reason=reason)
        notify_paused(schedule=schedule, run=run, reason=reason)
    else:
        notify_failure(run=run)
