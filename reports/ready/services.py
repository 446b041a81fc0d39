"""Running a ready-made report as a job: create (validate), start (queue), run (in the worker).

The views, the REST API and the command line all call these; the Huey task calls ``report_run``
through ``jobs.services.job_run``.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from business.audit import audit_record
from business.models import AuditEvent
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_create, job_queue, job_save_output
from reports.ready.base import REPORT_FORMATS, Progress, ReportParamsInvalid
from reports.ready.registry import UnknownReport, report_get, reports_for

__all__ = [
    "REPORT_FORMATS",
    "ReportParamsInvalid",
    "ReportPermissionDenied",
    "UnknownReport",
    "report_create",
    "report_get",
    "report_render",
    "report_run",
    "report_start",
    "reports_for",
]


# The writers' print design plus a few rules for the reports' wide tables.
PDF_TEMPLATE = "reports/pdf/report_base.html"


class ReportPermissionDenied(PermissionDenied):
    """The user may not run this report (or not as PDF). A 403 in views and the API."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ReportAccessLost(FerryError):
    """Between queueing and running, the user lost the permission the report needs."""


def _membership(*, organization, user) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(organization=organization, user=user).first()


def _check_permission(report, *, membership, format: str) -> None:
    if not report.may_run(membership):
        raise ReportPermissionDenied(
            f"You do not have the permission to run the report '{report.name}' "
            f"({report.permission})."
        )
    if format == "pdf" and not report.may_export_pdf(membership):
        raise ReportPermissionDenied(
            f"You do not have the permission to export the report '{report.name}' as PDF "
            f"({report.pdf_permission})."
        )


def _clean_format(format: str) -> str:
    key = (format or "").strip().lower()
    if key not in REPORT_FORMATS:
        raise ReportParamsInvalid(
            {"format": [f"Unknown format '{format}'. Choose one of: {', '.join(REPORT_FORMATS)}."]}
        )
    return key


def report_create(
    *, organization, user, report: str, format: str, params: dict[str, Any]
) -> DataJob:
    """Validate the request and create the report's job (not yet queued: see report_start).

    Raises UnknownReport, ReportParamsInvalid (per-field errors, format included) or
    ReportPermissionDenied.
    """
    report_class = report_get(report)
    fmt = _clean_format(format)
    _check_permission(
        report_class, membership=_membership(organization=organization, user=user), format=fmt
    )
    form = report_class.clean_params(organization=organization, params=params)
    job = job_create(
        organization=organization,
        user=user,
        job_type=DataJob.Type.REPORT,
        target=report_class.identifier,
        format=fmt,
        params={
            "report_params": form.params(),
            "filters_text": form.describe(),
            # Who may download the file: the PDF code for a PDF, the report's code otherwise.
            "permission": report_class.file_permission(fmt),
        },
    )
    # The job page links here: the report's own page shows its key figures and download.
    job.params["result_url"] = reverse(
        "reports:report_job", kwargs={"identifier": report_class.identifier, "pk": job.pk}
    )
    DataJob.objects.filter(pk=job.pk).update(params=job.params)
    return job


def report_start(*, job: DataJob) -> DataJob:
    """Queue the job for the worker (after the surrounding transaction commits)."""
    from reports.ready.tasks import report_task

    return job_queue(job=job, task=report_task)


def report_filename(*, report, format: str, organization, when=None) -> str:
    when = timezone.localtime(when or timezone.now())
    return f"{report.identifier}-{organization.slug}-{when:%Y%m%d-%H%M}.{format}"


def report_render(
    *, organization, report: str, format: str, params: dict[str, Any], path, progress: Progress
) -> dict[str, Any]:
    """Write the report to ``path`` (the CLI and report_run share this). The partial file is
    removed when anything fails, so nothing half-written is left behind."""
    from business.writers import writer_for

    report_class = report_get(report)
    fmt = _clean_format(format)
    form = report_class.clean_params(organization=organization, params=params)
    writer = writer_for(fmt)(
        path,
        title=report_class.name,
        organization_name=organization.name,
        filters_text=form.describe(),
        options={"sections": True, **({"template": PDF_TEMPLATE} if fmt == "pdf" else {})},
    )
    tap = _SummaryTap(writer)
    with writer:
        result = report_class().render(
            organization=organization, params=params or {}, writer=tap, progress=progress
        )
    result["summary_items"] = tap.items
    return result


class _SummaryTap:
    """Passes everything to the writer and keeps the summary block's figures as shown text,
    so the report's page can show the key figures without opening the file."""

    def __init__(self, writer):
        self._writer = writer
        self.items: list[list[str]] = []

    def summary(self, title, items):
        items = list(items)
        self.items = [[str(label), figure_text(value)] for label, value in items]
        self._writer.summary(title, items)

    def __getattr__(self, name):
        return getattr(self._writer, name)


def report_run(*, job: DataJob, progress: Progress) -> dict[str, Any]:
    """The body of the report task: check access again, render to a file, store it, audit."""
    report_class = report_get(job.target)
    membership = _membership(organization=job.organization, user=job.user)
    try:
        _check_permission(report_class, membership=membership, format=job.format)
    except ReportPermissionDenied as exc:
        raise ReportAccessLost(exc.message) from exc
    params = job.params.get("report_params", {})
    fd, path = tempfile.mkstemp(prefix=f"ferry-report-{job.pk}-", suffix=f".{job.format}")
    os.close(fd)
    try:
        result = report_render(
            organization=job.organization,
            report=report_class.identifier,
            format=job.format,
            params=params,
            path=path,
            progress=progress,
        )
        filename = report_filename(
            report=report_class, format=job.format, organization=job.organization
        )
        job_save_output(job=job, path_or_file=path, filename=filename)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    audit_record(
        organization=job.organization,
        event_type=AuditEvent.Type.REPORT,
        user=job.user,
        object_type="report",
        object_id=report_class.identifier,
        object_repr=report_class.name,
        details={
            "job": job.pk,
            "format": job.format,
            "params": params,
            "rows": result.get("rows", 0),
        },
    )
    summary: dict[str, Any] = {"report": report_class.identifier, "rows": result.get("rows", 0)}
    if report_class.figures_in_job:
        summary["figures"] = _json_safe(result.get("figures", {}))
        # Shown as text on the report's page; the underscore keeps the jobs page from listing it.
        summary["_key_figures"] = result.get("summary_items", [])
    return summary


def figure_text(value: Any) -> str:
    """A key figure as text: amounts keep their cents (30.00), thousands separated."""
    import datetime as dt
    from decimal import Decimal

    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal | int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _json_safe(value: Any) -> Any:
    """Figures for the job summary (a JSONField): Decimals as strings, keeping their digits."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
