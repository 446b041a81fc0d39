"""Read-side helpers for jobs: what a person may see, and the shape pages show it in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.files.storage import Storage
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst

from accounts.scoping import get_scoped_or_404, scoped
from jobs.heartbeat import side_alive
from jobs.models import DataJob, JobLogEntry, WorkerHeartbeat

INPUT, OUTPUT = "input", "output"
_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")


def jobs_for(*, organization) -> QuerySet[DataJob]:
    """The organization's jobs, newest first, with what the dashboard shows."""
    return scoped(DataJob, organization).select_related("user")


def jobs_listed(queryset: QuerySet[DataJob]) -> QuerySet[DataJob]:
    """The jobs the dashboard lists: work that was started.

    A draft (pending, never started: the import wizard's unfinished imports, listed by the
    wizard) and a dry run (a preview: nothing was written) are not jobs a person looks for.
    """
    # Not ``exclude(params__dry_run=True)``: without the key the comparison is NULL, and
    # SQL's NOT NULL would drop every job that never had the flag.
    not_dry_run = Q(params__dry_run__isnull=True) | Q(params__dry_run=False)
    return queryset.exclude(status=DataJob.Status.PENDING).filter(not_dry_run)


def jobs_drafts(queryset: QuerySet[DataJob]) -> QuerySet[DataJob]:
    """Imports set up and never started (the wizard lists them as unfinished imports)."""
    return queryset.filter(job_type=DataJob.Type.IMPORT, status=DataJob.Status.PENDING)


def job_get(*, organization, pk) -> DataJob:
    """One job of the organization; another organization's job is a 404."""
    return get_scoped_or_404(DataJob.objects.select_related("user"), organization, pk=pk)


def jobs_overview(*, jobs: QuerySet[DataJob], now=None) -> dict[str, int]:
    """The dashboard's key figures: active jobs now, finished ones of the last seven days."""
    since = (now or timezone.now()) - timedelta(days=7)
    Status = DataJob.Status
    recent = Q(created_at__gte=since)
    nothing_done = Q(failed__gt=0, succeeded=0, skipped=0)
    silent, seconds = _silent(now)
    overview = jobs.order_by().aggregate(
        running=Count("pk", filter=Q(status=Status.RUNNING)),
        # Pending jobs are drafts still being set up (the import wizard's), not waiting.
        queued=Count("pk", filter=Q(status=Status.QUEUED)),
        completed=Count("pk", filter=recent & Q(status=Status.COMPLETED) & ~nothing_done),
        # A run where every row failed counts as what it is (see DataJob.outcome).
        failed=Count(
            "pk",
            filter=recent & (Q(status=Status.FAILED) | Q(status=Status.COMPLETED) & nothing_done),
        ),
        # jobs_stalled, counted in the same query.
        stalled=Count("pk", filter=silent),
    )
    if overview["stalled"] and now is None:
        # As jobs_stalled: beats that reached only the side files (SQLite; no query elsewhere).
        ids = jobs.order_by().filter(silent).values_list("pk", flat=True)
        overview["stalled"] -= len(side_alive(ids, limit=seconds))
    return overview


def job_controllable(*, job: DataJob, membership, user) -> bool:
    """Who may cancel a job or mark it failed: whoever started it, or an organization admin."""
    if membership is None or membership.organization_id != job.organization_id:
        return False
    return membership.is_admin or (job.user_id is not None and job.user_id == user.pk)


def job_files_allowed(*, job: DataJob, membership) -> bool:
    """Who may read a job's files and row log, on the pages and in the API alike.

    The permission its creator put in ``params["permission"]`` (an import's, an export's, a
    PDF's code); a job that names none is its starter's and the admins' only. That is the
    stricter of the two rules the pages and the API used to apply (the pages let any member
    in): a file whose job names no code may hold anything, so nobody else reads it.
    """
    if membership is None or membership.organization_id != job.organization_id:
        return False
    code = job.params.get("permission") if isinstance(job.params, dict) else None
    if code:
        return membership.has_perm(code)
    return membership.is_admin or (job.user_id is not None and job.user_id == membership.user_id)


def _silent(now=None) -> tuple[Q, int]:
    """Running jobs whose heartbeat has not reached the database for longer than the configured
    time, and that time in seconds."""
    seconds = settings.FERRY["JOB_STALLED_AFTER_SECONDS"]
    cutoff = (now or timezone.now()) - timedelta(seconds=seconds)
    last_seen = Coalesce("heartbeat_at", "started_at", "created_at")
    return Q(status=DataJob.Status.RUNNING) & LessThan(last_seen, cutoff), seconds


def jobs_stalled(queryset: QuerySet[DataJob], *, now=None) -> QuerySet[DataJob]:
    """Running jobs whose worker has not reported for longer than the configured time."""
    silent, seconds = _silent(now)
    stalled = queryset.filter(silent)
    # On SQLite a long all-or-nothing import beats through a file (see jobs/heartbeat.py).
    alive = side_alive(stalled.values_list("pk", flat=True), limit=seconds) if now is None else ()
    return stalled.exclude(pk__in=list(alive)) if alive else stalled


def jobs_holding_slot(queryset: QuerySet[DataJob], *, now=None) -> QuerySet[DataJob]:
    """Jobs that count against a concurrency limit: queued, or running with a live worker.

    A stalled job's worker is dead: it must not keep the next import out.
    """
    Status = DataJob.Status
    stalled = jobs_stalled(queryset, now=now).values("pk")
    return queryset.filter(status__in=[Status.QUEUED, Status.RUNNING]).exclude(pk__in=stalled)


@dataclass(frozen=True)
class WorkersState:
    """Whether any worker is alive, as pages tell it."""

    alive: int
    last_seen: Any  # datetime | None

    @property
    def any_alive(self) -> bool:
        return self.alive > 0


def workers_state(*, now=None) -> WorkersState:
    """Workers whose heartbeat is fresher than the stalled time (a dead one stops beating)."""
    cutoff = (now or timezone.now()) - timedelta(
        seconds=settings.FERRY["JOB_STALLED_AFTER_SECONDS"]
    )
    state = WorkerHeartbeat.objects.aggregate(
        alive=Count("pk", filter=Q(seen_at__gte=cutoff)), last_seen=Max("seen_at")
    )
    return WorkersState(**state)


def workers_silent_message(*, workers: WorkersState, job: DataJob | None = None) -> str:
    """What to tell a person when no worker is alive."""
    since = (
        f"The last one reported {naturaltime(workers.last_seen)}."
        if workers.last_seen
        else "None has reported yet."
    )
    queued = f" Worker check #{job.pk} is queued and runs as soon as one starts." if job else ""
    return (
        f"No worker is running: imports, exports and reports will wait. {since} Start one with "
        f"./ferry start or manage.py run_huey.{queued}"
    )


# A pending job was never started: an import draft someone walked away from. Queued and running
# jobs are work in flight and are never purged, however old.
EXPIRABLE = (*DataJob.FINISHED, DataJob.Status.PENDING)


def jobs_expired(*, older_than: timedelta | None = None, now=None) -> QuerySet[DataJob]:
    """Finished jobs and never-started drafts past the retention age: what ``jobs_purge`` deletes."""
    if older_than is None:
        older_than = timedelta(days=settings.FERRY["JOB_RETENTION_DAYS"])
    cutoff = (now or timezone.now()) - older_than
    return DataJob.objects.filter(created_at__lt=cutoff, status__in=EXPIRABLE)


def job_log_entries(*, job: DataJob, level: str = "") -> QuerySet[JobLogEntry]:
    entries = job.log_entries.all()
    if level:
        entries = entries.filter(level=level)
    return entries


def job_log_counts(*, job: DataJob) -> dict[str, int]:
    """Entries per level, for the level filter's labels."""
    counts = {level: 0 for level in JobLogEntry.Level.values}
    for row in job.log_entries.order_by().values("level").annotate(count=Count("pk")):
        counts[row["level"]] = row["count"]
    return counts


@dataclass(frozen=True)
class JobFile:
    """A file of a job a person can download: where it is stored and what it is called."""

    kind: str
    label: str
    name: str
    filename: str
    storage: Storage

    def exists(self) -> bool:
        return bool(self.name) and self.storage.exists(self.name)

    def size(self) -> int | None:
        try:
            return self.storage.size(self.name)
        except (OSError, NotImplementedError):
            return None


_KIND_LABELS = {INPUT: "Uploaded file", OUTPUT: "Result file"}


def job_files(*, job: DataJob) -> list[JobFile]:
    """Every file of the job: input, output and each ``summary["files"]`` kind."""
    storage = job.output_file.storage
    files: list[JobFile] = []
    own = (
        (INPUT, job.input_file, job.input_filename),
        (OUTPUT, job.output_file, job.output_filename),
    )
    for kind, stored, filename in own:
        if stored and stored.name:
            files.append(
                JobFile(
                    kind=kind,
                    label=_KIND_LABELS[kind],
                    name=stored.name,
                    filename=filename or _basename(stored.name),
                    storage=storage,
                )
            )
    extra = job.summary.get("files") if isinstance(job.summary, dict) else None
    for kind, spec in (extra or {}).items():
        if kind in (INPUT, OUTPUT):
            continue
        if isinstance(spec, dict) and spec.get("name"):
            name, filename = str(spec["name"]), str(spec.get("filename") or "")
        elif isinstance(spec, str) and spec:
            name, filename = spec, ""
        else:
            continue
        files.append(
            JobFile(
                kind=str(kind),
                label=capfirst(str(kind).replace("-", " ").replace("_", " ")),
                name=name,
                filename=filename or _basename(name),
                storage=storage,
            )
        )
    return files


def job_file(*, job: DataJob, kind: str) -> JobFile:
    for f in job_files(job=job):
        if f.kind == kind:
            return f
    raise Http404("This job has no such file.")


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SummaryItem:
    label: str
    value: str
    children: tuple[SummaryItem, ...] = ()


SummaryPresenter = Callable[[DataJob], list[SummaryItem]]
_SUMMARY_PRESENTERS: dict[str, SummaryPresenter] = {}


def job_summary_presenter_register(*, job_type: str, presenter: SummaryPresenter) -> None:
    """Let the app that owns a kind of job say how its summary reads (jobs knows no imports)."""
    _SUMMARY_PRESENTERS[job_type] = presenter


def job_summary_items(*, job: DataJob | None = None, summary: Any = None) -> list[SummaryItem]:
    """The job's summary as labelled lines a person can read, through its app's presenter."""
    if job is not None:
        presenter = _SUMMARY_PRESENTERS.get(job.job_type)
        if presenter is not None:
            return presenter(job)
        summary = job.summary
    return summary_items(summary=summary)


def summary_items(*, summary: Any) -> list[SummaryItem]:
    """Any summary JSON as labelled lines, without what is empty (files are downloads)."""
    if not isinstance(summary, dict):
        return [] if summary in (None, "") else [SummaryItem("Result", _scalar(summary))]
    # Keys with a leading underscore are the task's own bookkeeping, not meant for people.
    return [
        _item(key, value)
        for key, value in summary.items()
        if key != "files" and not str(key).startswith("_") and not summary_empty(value)
    ]


def summary_empty(value: Any) -> bool:
    """Nothing a person would read: no value, an empty group, or a list of records (the row
    log and the files show those)."""
    if value is None or value == "" or value == {} or value == [] or value == ():
        return True
    return isinstance(value, list | tuple) and any(isinstance(v, dict | list) for v in value)


def _item(key: Any, value: Any, depth: int = 0) -> SummaryItem:
    label = _label(key)
    if isinstance(value, dict) and not value:
        return SummaryItem(label, "—")
    if isinstance(value, dict) and depth < 2:
        children = tuple(_item(k, v, depth + 1) for k, v in value.items() if not summary_empty(v))
        return SummaryItem(label, "", children)
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return SummaryItem(label, ", ".join(_scalar(v) for v in value) or "—")
        return SummaryItem(label, f"{len(value)} items")
    return SummaryItem(label, _scalar(value))


def _label(key: Any) -> str:
    # Identifiers ("dry_run", "failed-rows") read better as words; anything else (a column
    # header from the user's file, say) is data and is shown exactly as it is.
    text = str(key)
    if _IDENTIFIER.fullmatch(text):
        return capfirst(text.replace("_", " ").replace("-", " "))
    return text


def _scalar(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict | list | tuple):
        return f"{len(value)} items"
    return str(value)
