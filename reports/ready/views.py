"""Reports pages: the list of reports, one report's filter form, and its job's progress.

Thin views: a form validates, one service call creates and queues the job, a redirect to the
job's page, which polls a small status fragment until the file is ready.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from accounts.decorators import organization_required
from jobs.models import DataJob
from jobs.selectors import job_controllable, job_files_allowed
from reports.exporters import (
    ExportParamsInvalid,
    ExportPermissionDenied,
    UnknownExporter,
    export_create,
    export_start,
    exporter_get,
    exporters_for,
)
from reports.ready.forms import ReportRunForm
from reports.ready.runs import report_job_get, report_jobs_recent


def _report_or_404(identifier: str):
    try:
        return exporter_get(identifier, kind="report")
    except UnknownExporter as exc:
        raise Http404(exc.message) from exc


def _runnable(request, identifier: str):
    report = _report_or_404(identifier)
    if not report.may_run(request.membership):
        raise PermissionDenied(f"You do not have the permission to run the report '{report.name}'.")
    return report


@require_GET
@organization_required
def report_list(request):
    reports = exporters_for(request.membership, kind="report")
    recent = report_jobs_recent(
        organization=request.organization, identifiers=[r.identifier for r in reports]
    )
    return render(request, "reports/reports.html", {"reports": reports, "recent": recent})


@require_http_methods(["GET", "POST"])
@organization_required
def report_page(request, identifier: str):
    report = _runnable(request, identifier)
    pdf_allowed = report.may_export(request.membership, "pdf")
    data = request.POST if request.method == "POST" else None
    form = report.form(organization=request.organization, data=data)
    run_form = ReportRunForm(data, pdf_allowed=pdf_allowed)
    if request.method == "POST" and form.is_valid() and run_form.is_valid():
        try:
            job = export_create(
                organization=request.organization,
                user=request.user,
                exporter=report,
                format=run_form.cleaned_data["format"],
                params=form.params(),
            )
        except ExportPermissionDenied as exc:
            run_form.add_error("format", exc.message)
        except ExportParamsInvalid as exc:
            for name, messages in exc.errors.items():
                target = form if name in form.fields else run_form
                target.add_error(name if name in target.fields else None, messages)
        else:
            export_start(job=job)
            return redirect("reports:report_job", identifier=report.identifier, pk=job.pk)
    recent = report_jobs_recent(organization=request.organization, identifiers=[report.identifier])
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "form": form,
            "run_form": run_form,
            "pdf_allowed": pdf_allowed,
            "recent": recent,
        },
    )


def _job_context(request, report, job: DataJob) -> dict:
    return {
        "report": report,
        "job": job,
        # The jobs pages' rules: who may cancel a job and who may download its file.
        "can_cancel": job.is_active
        and job_controllable(job=job, membership=request.membership, user=request.user),
        "may_download": job_files_allowed(job=job, membership=request.membership),
        "filters_text": (job.params or {}).get("filters_text", []),
        "key_figures": (job.summary or {}).get("_key_figures", []),
    }


@require_GET
@organization_required
def report_job(request, identifier: str, pk: int):
    report = _runnable(request, identifier)
    job = report_job_get(organization=request.organization, identifier=report.identifier, pk=pk)
    return render(request, "reports/report_job.html", _job_context(request, report, job))


@require_GET
@organization_required
def report_job_status(request, identifier: str, pk: int):
    """The polled fragment: progress while running; the download button once done."""
    report = _runnable(request, identifier)
    job = report_job_get(organization=request.organization, identifier=report.identifier, pk=pk)
    context = _job_context(request, report, job)
    if job.is_finished:
        # The last fragment (the download) replaces the polling one, and htmx stops polling.
        return HttpResponseStopPolling(
            render_to_string("reports/report_job_status.html", context, request=request)
        )
    return render(request, "reports/report_job_status.html", context)
