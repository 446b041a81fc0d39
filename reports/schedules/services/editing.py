"""Schedules as the pages and the API edit them: validate, create, update, duplicate,
activate, pause, delete.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs.errors import FerryError
from reports.schedules import recurrence
from reports.schedules.exporters import (
    FORMATS,
    ExporterParamsInvalid,
    target_check,
    target_clean_params,
    target_formats_check,
    target_get,
)
from reports.schedules.models import Schedule, ScheduleRunFile
from reports.schedules.services.common import (
    ScheduleInvalid,
    _audit,
    _membership,
    _next,
    _require_manager,
    addresses_clean,
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
