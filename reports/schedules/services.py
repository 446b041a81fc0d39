"""Schedules: save, activate, pause, duplicate, delete, trigger; claim due slots; run; deliver.

Exactly once per slot: ``schedules_claim_due`` moves ``next_run_at`` forward with a conditional
UPDATE (only the worker that still sees the old value wins) and records the run under a unique
(schedule, slot) constraint in the same transaction, so however many consumers tick at the same
minute, one run exists per slot. After downtime the next slot is computed from *now*, so a
missed slot runs once (marked late), not once per missed occurrence.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Membership
from accounts.permissions import MANAGE_SCHEDULES
from business.audit import audit_record
from business.models import AuditEvent
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_create, job_queue
from reports.schedules import recurrence
from reports.schedules.exporters import (
    FORMATS,
    ExporterDenied,
    ExporterParamsInvalid,
    target_check,
    target_clean_params,
    target_formats_check,
    target_get,
    target_render,
)
from reports.schedules.models import NotificationSettings, Schedule, ScheduleRun, ScheduleRunFile

logger = logging.getLogger(__name__)
Status = ScheduleRun.Status


def setting(name: str) -> Any:
    defaults = {
        "SCHEDULE_MAX_FAILURES": 3,
        "SCHEDULE_DELIVERY_TRIES": 3,
        "SCHEDULE_RUN_TRIES": 3,
        "SCHEDULE_RETRY_BASE_SECONDS": 60,
        "SCHEDULE_ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
        "SCHEDULE_LINK_MAX_AGE_DAYS": 7,
        "SCHEDULE_LATE_AFTER_SECONDS": 300,
    }
    return settings.FERRY.get(name, defaults[name])


class ScheduleInvalid(FerryError):
    """The schedule as given cannot be saved; ``errors`` maps field → messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        text = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        super().__init__(f"The schedule is not valid. {text}", code="invalid")


class ScheduleAccessLost(FerryError):
    """At run time the owner may no longer run the exporter (or left the organization)."""


class ScheduleDeliveryFailed(FerryError):
    pass


# --- validation ------------------------------------------------------------------------------


def addresses_clean(value, *, field: str) -> list[str]:
    """A list (or comma/semicolon/newline separated text) of valid, distinct addresses."""
    if value is None:
        return []
    if isinstance(value, str):
        for sep in (";", "\n", "\r"):
            value = value.replace(sep, ",")
        value = value.split(",")
    out: list[str] = []
    bad: list[str] = []
    for raw in value:
        address = str(raw).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
            continue
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    if bad:
        raise ScheduleInvalid({field: [f"Not a valid e-mail address: {', '.join(bad)}."]})
    return out


def _membership(*, organization, user) -> Membership | None:
    if user is None:
        return None
    return (
        Membership.objects.select_related("organization", "user")
        .filter(organization=organization, user=user)
        .first()
    )


def _clean(*, organization, owner, data: dict[str, Any]) -> dict[str, Any]:
    """Validate everything a schedule stores; ScheduleInvalid names every bad field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = ["Give the schedule a name."]
    out["name"] = name[:120]
    formats = data.get("formats") or []
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",")]
    formats = [f.lower() for f in formats if f]
    unknown = [f for f in formats if f not in FORMATS]
    if not formats or unknown:
        errors["formats"] = [f"Choose one or more formats from: {', '.join(FORMATS)}."]
    out["formats"] = [f for f in FORMATS if f in formats]
    membership = _membership(organization=organization, user=owner)
    identifier = (data.get("exporter") or "").strip()
    out["exporter"] = identifier
    target = None
    try:
        target = target_get(organization=organization, identifier=identifier)
        if "formats" not in errors:
            try:
                target_formats_check(target=target, formats=out["formats"])
            except ExporterParamsInvalid as exc:
                errors["formats"] = [exc.message]
        target_check(
            membership=membership,
            target=target,
            formats=out["formats"] if "formats" not in errors else [],
        )
        out["params"] = target_clean_params(
            organization=organization, target=target, params=data.get("params") or {}
        )
    except ExporterParamsInvalid as exc:
        errors["params"] = [exc.message]
    except FerryError as exc:
        errors["exporter"] = [exc.message]
        target = None
    period = data.get("period") or ""
    if period not in Schedule.Period.values:
        errors["period"] = [f"Unknown period '{period}'. Choose {recurrence.PERIOD_NAMES}."]
    elif period and target is not None and not target.period_fields:
        errors["period"] = [f"'{target.name}' has no date to fill in with a period."]
    out["period"] = period
    try:
        out["timezone"] = recurrence.zone_get(data.get("timezone") or "").key
    except FerryError as exc:
        errors["timezone"] = [exc.message]
    run_time = data.get("run_time")
    if isinstance(run_time, str):
        try:
            run_time = dt.time.fromisoformat(run_time.strip())
        except ValueError:
            errors["run_time"] = [f"'{run_time}' is not a time of day; use HH:MM, e.g. 07:00."]
            run_time = None
    if run_time is None and "run_time" not in errors:
        errors["run_time"] = ["Give the time of day, e.g. 07:00."]
    out["run_time"] = run_time
    frequency = data.get("frequency") or ""
    out["frequency"] = frequency
    if run_time is not None:
        try:
            out["rrule"] = recurrence.rule_build(
                frequency=frequency,
                run_time=run_time,
                weekdays=data.get("weekdays"),
                monthly_mode=data.get("monthly_mode") or "day",
                month_day=_int_or_none(data.get("month_day")),
                nth=_int_or_none(data.get("nth")),
                nth_weekday=data.get("nth_weekday"),
                custom=data.get("rrule") or "",
            )
        except FerryError as exc:
            errors["recurrence"] = [exc.message]
    for field in ("recipients", "cc", "bcc"):
        try:
            out[field] = addresses_clean(data.get(field), field=field)
        except ScheduleInvalid as exc:
            errors.update(exc.errors)
    out["subject"] = (data.get("subject") or "").strip()[:255]
    out["message"] = (data.get("message") or "").strip()
    out["only_when_rows"] = bool(data.get("only_when_rows"))
    if errors:
        raise ScheduleInvalid(errors)
    return out


def _int_or_none(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _next(schedule: Schedule, *, after: dt.datetime) -> dt.datetime | None:
    return recurrence.next_run(rule=schedule.rrule, tz=schedule.timezone, after=after)


def _audit(schedule: Schedule, *, user, action: str, request=None, **details: Any) -> None:
    audit_record(
        organization=schedule.organization,
        event_type=AuditEvent.Type.SETTINGS,
        user=user,
        object_type="schedule",
        object_id=str(schedule.pk),
        object_repr=schedule.name,
        details={"action": action, "schedule": schedule.pk, **details},
        request=request,
    )


def _name_taken(*, organization, name: str, exclude: int | None = None) -> bool:
    qs = Schedule.objects.filter(organization=organization, name__iexact=name)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def schedule_create(
    *, organization, user, data: dict[str, Any], request=None, now: dt.datetime | None = None
) -> Schedule:
    """Validate and save a new schedule owned by ``user`` (who must manage schedules)."""
    _require_manager(organization=organization, user=user)
    cleaned = _clean(organization=organization, owner=user, data=data)
    if _name_taken(organization=organization, name=cleaned["name"]):
        raise ScheduleInvalid({"name": [f"A schedule named '{cleaned['name']}' already exists."]})
    schedule = Schedule(organization=organization, owner=user, **cleaned)
    schedule.next_run_at = _next(schedule, after=now or timezone.now())
    with transaction.atomic():
        schedule.save()
        _audit(schedule, user=user, action="created", request=request, exporter=schedule.exporter)
    return schedule


def schedule_update(
    *, schedule: Schedule, user, data: dict[str, Any], request=None, now=None
) -> Schedule:
    """Change a schedule; the owner stays the person who created it."""
    _require_manager(organization=schedule.organization, user=user)
    cleaned = _clean(organization=schedule.organization, owner=schedule.owner, data=data)
    if _name_taken(organization=schedule.organization, name=cleaned["name"], exclude=schedule.pk):
        raise ScheduleInvalid({"name": [f"A schedule named '{cleaned['name']}' already exists."]})
    for key, value in cleaned.items():
        setattr(schedule, key, value)
    if schedule.is_active:
        schedule.next_run_at = _next(schedule, after=now or timezone.now())
    with transaction.atomic():
        schedule.save()
        _audit(schedule, user=user, action="updated", request=request)
    return schedule


def schedule_as_data(schedule: Schedule) -> dict[str, Any]:
    """The schedule's fields in the shape ``schedule_create`` takes (duplicate, API, form)."""
    return {
        "name": schedule.name,
        "exporter": schedule.exporter,
        "params": schedule.params,
        "period": schedule.period,
        "formats": schedule.formats,
        "frequency": "custom",
        "rrule": schedule.rrule,
        "run_time": schedule.run_time,
        "timezone": schedule.timezone,
        "recipients": schedule.recipients,
        "cc": schedule.cc,
        "bcc": schedule.bcc,
        "subject": schedule.subject,
        "message": schedule.message,
        "only_when_rows": schedule.only_when_rows,
    }


def schedule_duplicate(*, schedule: Schedule, user, request=None) -> Schedule:
    data = schedule_as_data(schedule)
    base = f"Copy of {schedule.name}"[:110]
    name, n = base, 2
    while _name_taken(organization=schedule.organization, name=name):
        name, n = f"{base} ({n})", n + 1
    data["name"] = name
    copy = schedule_create(
        organization=schedule.organization, user=user, data=data, request=request
    )
    copy.frequency = schedule.frequency
    Schedule.objects.filter(pk=copy.pk).update(frequency=schedule.frequency)
    return copy


def schedule_activate(*, schedule: Schedule, user, request=None, now=None) -> Schedule:
    _require_manager(organization=schedule.organization, user=user)
    schedule.is_active = True
    schedule.paused_reason = ""
    schedule.consecutive_failures = 0
    schedule.next_run_at = _next(schedule, after=now or timezone.now())
    schedule.save(
        update_fields=[
            "is_active",
            "paused_reason",
            "consecutive_failures",
            "next_run_at",
            "updated_at",
        ]
    )
    _audit(schedule, user=user, action="activated", request=request)
    return schedule


def schedule_pause(*, schedule: Schedule, user=None, reason: str = "", request=None) -> Schedule:
    """Pause a schedule (a person, or the system with ``reason`` after failures)."""
    if user is not None:
        _require_manager(organization=schedule.organization, user=user)
    schedule.is_active = False
    schedule.paused_reason = reason[:500]
    Schedule.objects.filter(pk=schedule.pk).update(
        is_active=False, paused_reason=schedule.paused_reason, updated_at=timezone.now()
    )
    _audit(schedule, user=user, action="paused", request=request, reason=reason)
    return schedule


def schedule_delete(*, schedule: Schedule, user, request=None) -> None:
    """Delete the schedule and its files; its signed links stop working with it."""
    _require_manager(organization=schedule.organization, user=user)
    files = list(ScheduleRunFile.objects.filter(run__schedule=schedule).exclude(file=""))
    with transaction.atomic():
        _audit(schedule, user=user, action="deleted", request=request)
        schedule.delete()
    for f in files:
        f.file.storage.delete(f.file.name)


class ScheduleForbidden(FerryError):
    def __init__(self):
        super().__init__(
            f"You do not have the permission to manage schedules ({MANAGE_SCHEDULES}).",
            code="permission_denied",
        )


def _require_manager(*, organization, user) -> Membership:
    membership = _membership(organization=organization, user=user)
    if membership is None or not membership.has_perm(MANAGE_SCHEDULES):
        raise ScheduleForbidden()
    return membership


# --- queueing runs ---------------------------------------------------------------------------


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


# --- running ---------------------------------------------------------------------------------


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


# --- notification settings -------------------------------------------------------------------


def notification_settings_get(*, organization) -> NotificationSettings:
    found, _ = NotificationSettings.objects.get_or_create(organization=organization)
    return found


def notification_settings_update(
    *, organization, user, data: dict[str, Any], request=None
) -> NotificationSettings:
    _require_manager(organization=organization, user=user)
    current = notification_settings_get(organization=organization)
    errors: dict[str, list[str]] = {}
    notify_on = data.get("notify_on", current.notify_on)
    if notify_on not in NotificationSettings.NotifyOn.values:
        errors["notify_on"] = ["Choose none, success, failure or both."]
    recipients_given = data.get("default_recipients", current.default_recipients)
    try:
        if recipients_given is not None and not isinstance(recipients_given, str | list | tuple):
            raise ScheduleInvalid({"default_recipients": ["Give a list of e-mail addresses."]})
        recipients = addresses_clean(recipients_given, field="default_recipients")
    except ScheduleInvalid as exc:
        errors.update(exc.errors)
        recipients = []
    # Text fields come from a form or a JSON body: anything but text (a list, a number) is
    # refused as the field's error rather than failing on .strip().
    texts: dict[str, str] = {}
    for name in ("reply_to", "from_name"):
        value = data.get(name, getattr(current, name))
        if value is not None and not isinstance(value, str):
            errors[name] = ["Give a text."]
            value = ""
        texts[name] = (value or "").strip()
    reply_to = texts["reply_to"]
    if reply_to and "reply_to" not in errors:
        try:
            validate_email(reply_to)
        except ValidationError:
            errors["reply_to"] = [f"Not a valid e-mail address: {reply_to}."]
    try:
        retention = int(data.get("retention_days", current.retention_days))
        if not 1 <= retention <= 3650:
            raise ValueError
    except (TypeError, ValueError):
        errors["retention_days"] = ["Keep files between 1 and 3650 days."]
        retention = current.retention_days
    if errors:
        raise ScheduleInvalid(errors)
    current.notify_on = notify_on
    current.default_recipients = recipients
    current.from_name = texts["from_name"][:100]
    current.reply_to = reply_to
    current.retention_days = retention
    current.weekly_summary = bool(data.get("weekly_summary", current.weekly_summary))
    current.save()
    audit_record(
        organization=organization,
        event_type=AuditEvent.Type.SETTINGS,
        user=user,
        object_type="schedule_notifications",
        object_id=str(current.pk),
        object_repr="Schedule notification settings",
        details={"action": "updated", "notify_on": notify_on, "retention_days": retention},
        request=request,
    )
    return current


# --- retention -------------------------------------------------------------------------------


def schedule_files_purge(*, now: dt.datetime | None = None) -> int:
    """Delete run files older than their organization's retention; the history rows stay."""
    now = now or timezone.now()
    purged = 0
    retention = dict(NotificationSettings.objects.values_list("organization_id", "retention_days"))
    files = ScheduleRunFile.objects.filter(purged_at__isnull=True).exclude(file="")
    for f in files.select_related("run").iterator(chunk_size=500):
        days = retention.get(f.run.organization_id, 30)
        if f.created_at > now - dt.timedelta(days=days):
            continue
        name = f.file.name
        ScheduleRunFile.objects.filter(pk=f.pk).update(file="", purged_at=now)
        f.file.storage.delete(name)
        purged += 1
    return purged
