from __future__ import annotations

from datetime import timedelta

from django import template

from jobs.models import DataJob
from jobs.tables import format_duration

register = template.Library()


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


@register.filter
def is_live(job: DataJob) -> bool:
    """Worth polling: a worker has it or will soon. A pending job is a draft still being set up
    (the import wizard keeps its drafts as pending jobs), and a stalled one has no worker left."""
    return job.status in (DataJob.Status.QUEUED, DataJob.Status.RUNNING) and not job.is_stalled
