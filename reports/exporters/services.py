"""The one way an export is made, whatever its kind: create (validate), start (queue), run.

The export builder, the reports pages, the REST API, the command line and schedules all call
these with an exporter identifier, a format and parameters; the Huey task calls ``export_run``
through ``jobs.services.job_run``. The command line writes straight to a file with
``export_render`` and audits with ``export_audit``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from business.audit import audit_record
from business.writers import writer_for
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_create, job_queue, job_save_output
from library.services import template_mark_used
from reports.exporters.base import (
    ExportAccessLost,
    Exporter,
    ExportPermissionDenied,
    Progress,
)
from reports.exporters.registry import exporter_get


def _exporter(exporter: str | type[Exporter]) -> type[Exporter]:
    return exporter_get(exporter) if isinstance(exporter, str) else exporter


def membership_of(*, organization, user) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(organization=organization, user=user).first()


def export_create(
    *,
    organization,
    user,
    exporter: str | type[Exporter],
    format: str,
    params: dict[str, Any] | None = None,
    template=None,
) -> DataJob:
    """Validate an export and record it as a pending job (``export_start`` queues it).

    ``template`` (a saved export template, for kinds that have them) fills in what ``params``
    and ``format`` leave empty. Raises UnknownExporter, ExportParamsInvalid or the kind's own
    FerryError for bad parameters or format, and ExportPermissionDenied.
    """
    exp = _exporter(exporter)
    params = dict(params or {})
    if template is not None:
        if template.organization_id != organization.pk:
            raise FerryError("That export template belongs to another organization.")
        format, params = exp.template_apply(template=template, format=format, params=params)
    fmt = exp.format_clean(format)
    exp.permission_check(membership=membership_of(organization=organization, user=user), format=fmt)
    cleaned = exp.params_clean(organization=organization, params=params)
    exp.check(organization=organization, format=fmt, params=cleaned.params)
    job_params = {
        **exp.job_params(cleaned.params),
        "filters_text": cleaned.filters_text,
        # Who may download the file: the PDF code for a PDF, the exporter's code otherwise.
        "permission": exp.permission_for(fmt),
    }
    if template is not None:
        job_params["template"] = template.pk
        job_params["template_name"] = template.name
    with transaction.atomic():
        job = job_create(
            organization=organization,
            user=user,
            job_type=exp.job_type,
            target=exp.identifier,
            # The jobs pages show it; jobs cannot look exporters up.
            target_label=exp.job_label(params=cleaned.params),
            format=fmt,
            params=job_params,
        )
        url = exp.result_url(job)
        if url:
            job.params["result_url"] = url
            DataJob.objects.filter(pk=job.pk).update(params=job.params)
        if template is not None:
            template_mark_used(template=template)
    return job


def export_start(*, job: DataJob) -> DataJob:
    """Queue the job for the worker (after the surrounding transaction commits)."""
    from reports.exporters.tasks import export_task  # the task module imports this one

    return job_queue(job=job, task=export_task)


def export_filename(*, exporter: type[Exporter], format: str, organization, when=None) -> str:
    when = timezone.localtime(when or timezone.now())
    extension = exporter.extension_for(format)
    return f"{exporter.identifier}-{organization.slug}-{when:%Y%m%d-%H%M}.{extension}"


class _SummaryTap:
    """Passes everything to the writer and keeps the summary block's figures as shown text,
    so a page can show the key figures without opening the file."""

    def __init__(self, writer):
        self._writer = writer
        self.items: list[list[str]] = []

    def summary(self, title, items):
        items = list(items)
        self.items = [[str(label), figure_text(value)] for label, value in items]
        self._writer.summary(title, items)

    def __getattr__(self, name):
        return getattr(self._writer, name)


def export_render(
    *,
    organization,
    exporter: str | type[Exporter],
    format: str,
    params: dict[str, Any] | None,
    path,
    progress: Progress,
) -> dict[str, Any]:
    """Write the export to ``path`` (the CLI and ``export_run`` share this); its result has
    ``rows`` and ``summary_items``. The partial file is removed when anything fails."""
    exp = _exporter(exporter)
    fmt = exp.format_clean(format)
    cleaned = exp.params_clean(organization=organization, params=params)
    if exp.own_file:
        return exp().render_file(
            organization=organization,
            params=cleaned.params,
            format=fmt,
            path=path,
            progress=progress,
        )
    writer = writer_for(fmt)(
        path,
        title=exp.title(params=cleaned.params),
        organization_name=organization.name,
        filters_text=cleaned.filters_text,
        options={
            # Print numbers, dates and money the organization's way (PDF, XLSX formats).
            "locale": getattr(organization, "locale", None),
            "currency": getattr(organization, "currency", None),
            **exp.writer_options(format=fmt, params=cleaned.params),
        },
    )
    tap = _SummaryTap(writer)
    with writer:
        result = exp().render(
            organization=organization, params=cleaned.params, writer=tap, progress=progress
        )
    result["summary_items"] = tap.items
    return result


def export_audit(
    *,
    organization,
    user,
    exporter: type[Exporter],
    format: str,
    params: dict[str, Any],
    rows: int,
    job: DataJob | None = None,
    via: str | None = None,
) -> None:
    """One audit event per file produced: who, which exporter and format, parameters, rows."""
    details = {**exporter.audit_details(params=params), "format": format, "rows": rows}
    if job is not None:
        details["job"] = job.pk
    if via:
        details["via"] = via
    audit_record(
        organization=organization,
        event_type=exporter.audit_event,
        user=user,
        object_type=exporter.kind,
        object_id=exporter.identifier,
        object_repr=exporter.audit_repr(format=format),
        details=details,
    )


def export_run(*, job: DataJob, progress: Progress) -> dict[str, Any]:
    """The task body: check access again, render to a file, store it, audit, summarise."""
    exp = exporter_get(job.target)
    membership = membership_of(organization=job.organization, user=job.user)
    try:
        exp.permission_check(membership=membership, format=job.format)
    except ExportPermissionDenied as exc:
        # The person lost the permission between asking and the worker starting.
        raise ExportAccessLost(exc.message) from exc
    params = exp.params_of(job)
    folder = Path(tempfile.mkdtemp(prefix=f"ferry-export-{job.pk}-"))
    try:
        filename = export_filename(exporter=exp, format=job.format, organization=job.organization)
        path = folder / filename
        result = export_render(
            organization=job.organization,
            exporter=exp,
            format=job.format,
            params=params,
            path=path,
            progress=progress,
        )
        result["size_bytes"] = path.stat().st_size
        job_save_output(job=job, path_or_file=path, filename=filename)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    export_audit(
        organization=job.organization,
        user=job.user,
        exporter=exp,
        format=job.format,
        params=params,
        rows=result.get("rows", 0),
        job=job,
    )
    return exp.job_summary(job=job, params=params, result=result)


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
