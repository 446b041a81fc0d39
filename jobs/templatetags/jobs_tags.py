from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from jobs.models import DataJob
from jobs.selectors import job_controllable

register = template.Library()


def format_duration(duration) -> str:
    if duration is None:
        return "—"
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def duration(value: timedelta | None) -> str:
    """A timedelta as a person reads it: "42 s", "3 min 05 s", "2 h 10 min"."""
    return format_duration(value)


@register.filter
def seconds(value: float | None) -> str:
    return format_duration(None if value is None else timedelta(seconds=value))


@register.filter
def job_title(job: DataJob) -> str:
    """ "Import of contacts", "Export of products", "Report: Inventory valuation",
    "Worker check": the target as people call it (its stored label)."""
    label = job.target_display
    if job.job_type == DataJob.Type.SYSTEM:
        return label
    if job.job_type == DataJob.Type.REPORT:
        return f"Report: {label}"
    # Mid-sentence a model's plural reads in lower case ("Import of sales orders").
    return f"{job.get_job_type_display()} of {label[:1].lower()}{label[1:]}"


def _is_live(job: DataJob, stalled: bool) -> bool:
    return job.status in (DataJob.Status.QUEUED, DataJob.Status.RUNNING) and not stalled


@register.filter
def is_live(job: DataJob) -> bool:
    """Worth polling: a worker has it or will soon. A pending job is a draft still being set up
    (the import wizard keeps its drafts as pending jobs), and a stalled one has no worker left."""
    return _is_live(job, job.is_stalled)


_PROGRESS_CLASSES = {"completed": " done", "failed": " failed", "warning": " partial"}


def _progress_class(tone: str, stalled: bool) -> str:
    return " stalled" if stalled else _PROGRESS_CLASSES.get(tone, "")


@register.filter
def progress_class(job: DataJob) -> str:
    """The progress bar's extra class: stalled, or how the job ended (done, failed, partial)."""
    return _progress_class(job.outcome.tone, job.is_stalled)


def job_status_html(
    job: DataJob,
    *,
    membership,
    user,
    csrf_token=None,
    polled: bool = False,
    grouped: Callable[[int], str] | None = None,
) -> SafeString:
    """A job's status as the dashboard row, the sync pages and the polled ``?view=row`` fragment
    show it: badge, progress, counts and, for a stalled job, the "Mark failed" button.

    Written here rather than by a template: the dashboard writes one per row, and through the
    template engine the 25 cells took 2 to 3 times as long (about 5 ms a page, measured with
    bench_web.py --cpu's data). ``membership`` and ``user``: the
    person looking (a stalled job's button is for those who may control it); ``polled``: the
    fragment answers a poll, so a job that has just finished still shows its full bar. Numbers
    are written as they are; every text is escaped (tests/jobs/test_status_cell.py).
    ``grouped``: ``_grouper()`` of a page that writes many cells (read once, not per cell).
    """
    Status = DataJob.Status
    # Each of these is read once: the template asked for is_stalled six times a row.
    stalled = job.is_stalled
    live = _is_live(job, stalled)
    pk = job.pk
    if live:
        url = escape(reverse("jobs:status", args=[pk]))
        parts = [
            f'<div class="job-status" id="job-status-{pk}" hx-get="{url}?view=row" '
            'hx-trigger="every 1s" hx-swap="outerHTML">'
        ]
    else:
        parts = [f'<div class="job-status" id="job-status-{pk}">']
    parts.append(' <div class="job-status-main"> ')
    outcome = job.outcome
    if stalled:
        since = escape(str(naturaltime(job.heartbeat_at or job.started_at)))
        parts.append(
            f'<span class="badge stalled" title="No word from the worker since {since}">'
            "Stalled</span>"
        )
    else:
        parts.append(f'<span class="badge {escape(outcome.tone)}">{escape(outcome.label)}</span>')
    if live or stalled or polled:
        percent = int(job.percent)
        parts.append(
            f' <div class="progress{_progress_class(outcome.tone, stalled)}" role="progressbar" '
            f'aria-label="Progress of job {pk}" aria-valuemin="0" aria-valuemax="100" '
            f'aria-valuenow="{percent}"> <span style="width: {percent}%"></span> </div> '
            f'<span class="percent small">{percent}%</span>'
        )
    if stalled and job_controllable(job=job, membership=membership, user=user):
        action = escape(reverse("jobs:mark_failed", args=[pk]))
        parts.append(
            f' <form method="post" action="{action}" class="inline"> {_csrf_input(csrf_token)}'
            '<input type="hidden" name="next" value="dashboard"> '
            '<button type="submit" class="danger">Mark failed</button> </form>'
        )
    parts.append(' </div> <div class="job-counts small muted"> ')
    if job.status == Status.PENDING:
        parts.append("Not started yet")
    elif job.status == Status.QUEUED:
        parts.append("Waiting for a worker")
    else:
        parts.append(_counts_html(job, grouped or _grouper()))
    parts.append(" </div> </div>")
    return mark_safe("".join(parts))


def _counts_html(job: DataJob, grouped: Callable[[int], str]) -> str:
    # "40,000 of 100,000 rows · 3 failed · 2 skipped · 1 min 05 s"
    parts = [grouped(job.processed)]
    if job.total:
        parts.append(f" of {grouped(job.total)}")
    parts.append(" rows")
    if job.failed:
        parts.append(f' · <span class="text-err">{grouped(job.failed)} failed</span>')
    if job.skipped:
        parts.append(f" · {grouped(job.skipped)} skipped")
    if job.started_at:
        parts.append(f" · {escape(format_duration(job.duration))}")
    return "".join(parts)


def _grouper() -> Callable[[int], str]:
    """humanize's ``intcomma`` for whole numbers, escaped: what it does for one (number_format
    with grouping forced), with the language's separators read once rather than per number."""
    decimal = get_format("DECIMAL_SEPARATOR")
    grouping = get_format("NUMBER_GROUPING")
    thousands = get_format("THOUSAND_SEPARATOR")

    def grouped(value) -> str:
        return escape(
            numberformat.format(
                int(value), decimal, None, grouping, thousands, force_grouping=True, use_l10n=True
            )
        )

    return grouped


def _csrf_input(token) -> SafeString:
    # What {% csrf_token %} writes. The context's token is lazy and read only here: reading it
    # makes the response set the CSRF cookie, which a page without a form need not.
    token = "" if token is None else str(token)
    if token and token != "NOTPROVIDED":
        return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
    return mark_safe("")


def job_status_writer(context) -> Callable[[DataJob], SafeString]:
    """``job_status_html`` for one page: who is looking and the CSRF token are read from the
    template context once, then each job is written with them."""
    membership = context.get("current_membership")
    user = context.get("user")
    csrf_token = context.get("csrf_token")
    polled = bool(context.get("polled"))
    # The language's number separators, read once for the page's cells (three settings
    # lookups per cell were a tenth of the dashboard's rows).
    grouped = _grouper()

    def write(job: DataJob) -> SafeString:
        return job_status_html(
            job,
            membership=membership,
            user=user,
            csrf_token=csrf_token,
            polled=polled,
            grouped=grouped,
        )

    return write


@register.simple_tag(takes_context=True)
def job_status(context, job: DataJob) -> SafeString:
    """``{% job_status job %}``: the job's status block (``job_status_html``)."""
    return job_status_writer(context)(job)
