"""The runs of the ready-made reports: a report's jobs, as the reports pages list them."""

from __future__ import annotations

from accounts.scoping import get_scoped_or_404, scoped
from jobs.models import DataJob
from reports.exporters import exporters_all


def report_job_get(*, organization, identifier: str, pk: int) -> DataJob:
    """One report job of the organization; another organization's job (or another report's)
    is a 404."""
    return get_scoped_or_404(
        DataJob.objects.select_related("user"),
        organization,
        pk=pk,
        job_type=DataJob.Type.REPORT,
        target=identifier,
    )


RECENT_JOBS = 8


def report_jobs_recent(*, organization, identifiers: list[str]) -> list[DataJob]:
    """The organization's latest runs of these reports, each with ``report_name`` set."""
    names = {r.identifier: r.name for r in exporters_all(kind="report")}
    jobs = list(
        scoped(DataJob, organization)
        .filter(job_type=DataJob.Type.REPORT, target__in=identifiers)
        .select_related("user")
        .order_by("-created_at", "-pk")[:RECENT_JOBS]
    )
    for job in jobs:
        job.report_name = names.get(job.target, job.target)
    return jobs
