from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.urls import reverse
from django.utils.html import format_html
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
    job: DataJob, *, membership, user, csrf_token=None, polled: bool = False
) -> SafeString:
    """A job's status as the dashboard row, the sync pages and the polled ``?view=row`` fragment
    show it: badge, progress, counts and, for a stalled job, the "Mark failed" button.

    Written here rather than by a template: the dashboard writes one per row, and through the
    template engine this cell was half of the dashboard's CPU. ``membership`` and ``user``: the
    person looking (a stalled job's button is for those who may control it); ``polled``: the
    fragment answers a poll, so a job that has just finished still shows its full bar.
    """
    Status = DataJob.Status
    # Each of these is read once: the template asked for is_stalled six times a row.
    stalled = job.is_stalled
    live = _is_live(job, stalled)
    pk = job.pk
    if live:
        head = format_html(
            '<div class="job-status" id="job-status-{}" hx-get="{}?view=row" '
            'hx-trigger="every 1s" hx-swap="outerHTML">',
            pk,
            reverse("jobs:status", args=[pk]),
        )
    else:
        head = format_html('<div class="job-status" id="job-status-{}">', pk)
    outcome = job.outcome
    if stalled:
        badge = format_html(
            '<span class="badge stalled" title="No word from the worker since {}">Stalled</span>',
            naturaltime(job.heartbeat_at or job.started_at),
        )
    else:
        badge = format_html('<span class="badge {}">{}</span>', outcome.tone, outcome.label)
    parts = [head, ' <div class="job-status-main"> ', badge]
    if live or stalled or polled:
        percent = job.percent
        parts.append(
            format_html(
                ' <div class="progress{}" role="progressbar" aria-label="Progress of job {}" '
                'aria-valuemin="0" aria-valuemax="100" aria-valuenow="{}"> '
                '<span style="width: {}%"></span> </div> <span class="percent small">{}%</span>',
                _progress_class(outcome.tone, stalled),
                pk,
                percent,
                percent,
                percent,
            )
        )
    if stalled and job_controllable(job=job, membership=membership, user=user):
        parts.append(
            format_html(
                ' <form method="post" action="{}" class="inline"> {}<input type="hidden" '
                'name="next" value="dashboard"> <button type="submit" class="danger">'
                "Mark failed</button> </form>",
                reverse("jobs:mark_failed", args=[pk]),
                _csrf_input(csrf_token),
            )
        )
    parts.append(' </div> <div class="job-counts small muted"> ')
    if job.status == Status.PENDING:
        parts.append("Not started yet")
    elif job.status == Status.QUEUED:
        parts.append("Waiting for a worker")
    else:
        parts.append(_counts_html(job))
    parts.append(" </div> </div>")
    return mark_safe("".join(parts))


def _counts_html(job: DataJob) -> SafeString:
    # "40,000 of 100,000 rows · 3 failed · 2 skipped · 1 min 05 s"
    parts = [format_html("{}", intcomma(job.processed))]
    if job.total:
        parts.append(format_html(" of {}", intcomma(job.total)))
    parts.append(" rows")
    if job.failed:
        parts.append(
            format_html(' · <span class="text-err">{} failed</span>', intcomma(job.failed))
        )
    if job.skipped:
        parts.append(format_html(" · {} skipped", intcomma(job.skipped)))
    if job.started_at:
        parts.append(format_html(" · {}", format_duration(job.duration)))
    return mark_safe("".join(parts))


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

    def write(job: DataJob) -> SafeString:
        return job_status_html(
            job,
            membership=membership,
            user=user,
            csrf_token=csrf_token,
            polled=polled,
        )

    return write


@register.simple_tag(takes_context=True)
def job_status(context, job: DataJob) -> SafeString:
    """``{% job_status job %}``: the job's status block (``job_status_html``)."""
    return job_status_writer(context)(job)
