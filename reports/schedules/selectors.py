"""Reading schedules and their history, always scoped to one organization."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from reports.schedules.models import Schedule, ScheduleRun, ScheduleRunFile

RUN_STATUSES = ScheduleRun.Status


def schedules_list(*, organization, active: bool | None = None, search: str = ""):
    """The organization's schedules with their last run's status and time annotated."""
    last = ScheduleRun.objects.filter(schedule=OuterRef("pk")).order_by("-created_at", "-pk")
    qs = (
        Schedule.objects.filter(organization=organization)
        .select_related("owner")
        .annotate(
            last_status=Subquery(last.values("status")[:1]),
            last_created=Subquery(last.values("created_at")[:1]),
        )
    )
    if active is not None:
        qs = qs.filter(is_active=active)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(exporter__icontains=search))
    return qs.order_by("name", "pk")


def schedule_get(*, organization, pk: int) -> Schedule:
    """One schedule of the organization; another organization's is a 404."""
    return get_object_or_404(
        Schedule.objects.select_related("owner", "organization"), organization=organization, pk=pk
    )


def schedule_get_by_name(*, name: str, organization=None) -> Schedule:
    qs = Schedule.objects.select_related("organization", "owner").filter(name=name)
    if organization is not None:
        qs = qs.filter(organization=organization)
    return qs.get()


def schedules_upcoming(*, organization, within: dt.timedelta = dt.timedelta(days=7), now=None):
    now = now or timezone.now()
    return (
        schedules_list(organization=organization, active=True)
        .filter(next_run_at__gte=now, next_run_at__lte=now + within)
        .order_by("next_run_at", "pk")
    )


def schedules_overdue(*, organization, grace: dt.timedelta = dt.timedelta(minutes=5), now=None):
    """Active schedules whose next slot passed more than ``grace`` ago (no worker ticking?)."""
    now = now or timezone.now()
    return (
        schedules_list(organization=organization, active=True)
        .filter(next_run_at__lt=now - grace)
        .order_by("next_run_at", "pk")
    )


def runs_list(
    *,
    organization,
    schedule: Schedule | None = None,
    status: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
):
    qs = (
        ScheduleRun.objects.filter(organization=organization)
        .select_related("schedule", "job", "triggered_by")
        .prefetch_related("files")
        .annotate(total_size=Sum("files__size"))
    )
    if schedule is not None:
        qs = qs.filter(schedule=schedule)
    if status:
        qs = qs.filter(status=status)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    return qs.order_by("-created_at", "-pk")


def run_get(*, organization, pk: int, schedule: Schedule | None = None) -> ScheduleRun:
    qs = ScheduleRun.objects.select_related("schedule", "job").prefetch_related("files")
    if schedule is not None:
        qs = qs.filter(schedule=schedule)
    return get_object_or_404(qs, organization=organization, pk=pk)


def run_file_get(*, organization, pk: int) -> ScheduleRunFile:
    return get_object_or_404(
        ScheduleRunFile.objects.select_related("run", "run__schedule"),
        run__organization=organization,
        pk=pk,
    )


def schedule_statistics(*, organization, schedule: Schedule | None = None) -> dict[str, Any]:
    """Runs, success rate and average duration (of the runs that finished)."""
    qs = ScheduleRun.objects.filter(organization=organization)
    if schedule is not None:
        qs = qs.filter(schedule=schedule)
    ok = Q(status__in=[RUNS_OK[0], RUNS_OK[1]])
    agg = qs.aggregate(
        runs=Count("pk"),
        succeeded=Count("pk", filter=ok),
        failed=Count("pk", filter=Q(status=RUN_STATUSES.FAILED)),
        late=Count("pk", filter=Q(late=True)),
        avg=Avg(
            F("finished_at") - F("started_at"),
            filter=Q(finished_at__isnull=False, started_at__isnull=False),
        ),
    )
    finished = agg["succeeded"] + agg["failed"]
    avg = agg["avg"]
    return {
        "runs": agg["runs"],
        "succeeded": agg["succeeded"],
        "failed": agg["failed"],
        "late": agg["late"],
        "success_rate": round(agg["succeeded"] * 100 / finished, 1) if finished else None,
        "average_seconds": round(avg.total_seconds(), 2) if avg is not None else None,
    }


RUNS_OK = (RUN_STATUSES.COMPLETED, RUN_STATUSES.EMAILED)
