"""Jobs pages: the dashboard, one job's page, its live status fragment, actions and downloads.

Every view resolves the job inside ``request.organization``: another organization's job is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.context_processors import csrf
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling
from django_tables2 import RequestConfig

from accounts.decorators import organization_required
from jobs.filters import DataJobFilter
from jobs.forms import LogLevelForm
from jobs.models import DataJob
from jobs.selectors import (
    job_controllable,
    job_file,
    job_files,
    job_files_allowed,
    job_get,
    job_log_counts,
    job_log_entries,
    job_summary_items,
    jobs_drafts,
    jobs_for,
    jobs_listed,
    jobs_overview,
    workers_silent_message,
    workers_state,
)
from jobs.services import job_cancel, job_mark_stalled_failed
from jobs.tables import DataJobTable
from jobs.tasks import worker_check_queue
from jobs.templatetags.jobs_tags import job_status_html

# htmx stops polling an element when its request is answered with this status.
DASHBOARD_PAGE_SIZE = 25
LOG_PAGE_SIZE = 50


def _can_control(request, job: DataJob) -> bool:
    return job_controllable(job=job, membership=request.membership, user=request.user)


def _can_download(request, job: DataJob) -> bool:
    return job_files_allowed(job=job, membership=request.membership)


@require_GET
@organization_required
def dashboard(request):
    jobs = jobs_listed(jobs_for(organization=request.organization))
    overview = jobs_overview(jobs=jobs)
    if request.htmx and request.htmx.target == "jobs-overview":
        # Refreshed whenever a job on the page finishes.
        return render(request, "jobs/dashboard_overview.html", {"overview": overview})
    job_filter = DataJobFilter(
        request.GET or None, queryset=jobs, organization=request.organization
    )
    table = DataJobTable(job_filter.qs)
    if not request.GET:
        table.empty_text = "No jobs yet. Imports, exports and reports you start will appear here."
    RequestConfig(request, paginate={"per_page": DASHBOARD_PAGE_SIZE}).configure(table)
    context = {
        "filter": job_filter,
        "table": table,
        "overview": overview,
        "drafts": jobs_drafts(jobs_for(organization=request.organization))
        .filter(user=request.user)
        .count(),
        "workers": workers_state(),
    }
    return render(request, "jobs/dashboard.html", context)


def _result_url(job: DataJob) -> str | None:
    url = job.params.get("result_url") if isinstance(job.params, dict) else None
    # Set by our own code, but only ever followed as a path on this site.
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
        return url
    return None


def _detail_context(request, job: DataJob) -> dict:
    files = job_files(job=job)
    allowed = _can_download(request, job)
    return {
        "job": job,
        "files": files if allowed else [],
        "files_hidden": bool(files) and not allowed,
        "summary_items": job_summary_items(job=job),
        "can_control": _can_control(request, job),
        "result_url": _result_url(job),
    }


def _log_context(request, job: DataJob) -> dict:
    if not _can_download(request, job):
        # The row log quotes cells of the uploaded file: it needs the same permission as the files.
        return {"job": job, "log_hidden": True}
    form = LogLevelForm(request.GET or None)
    level = form.selected_level()
    page = Paginator(job_log_entries(job=job, level=level), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    counts = job_log_counts(job=job)
    return {
        "job": job,
        "log_form": form,
        "log_level": level,
        "log_page": page,
        "log_counts": counts,
        "log_total": sum(counts.values()),
    }


@require_GET
@organization_required
def detail(request, pk: int):
    job = job_get(organization=request.organization, pk=pk)
    context = _log_context(request, job)
    if request.htmx and request.htmx.target == "job-log":
        # The row log's level filter and pagination.
        return render(request, "jobs/detail_log.html", context)
    context.update(_detail_context(request, job))
    return render(request, "jobs/detail.html", context)


@require_GET
@organization_required
def status(request, pk: int):
    """The polled fragment: status and progress (``?view=row`` for a dashboard row)."""
    job = job_get(organization=request.organization, pk=pk)
    # Only ever requested by polling, so a finished job is shown as having just finished.
    if request.GET.get("view") == "row":
        # The dashboard row's cell, written as the dashboard writes it (no template).
        html = job_status_html(
            job,
            membership=request.membership,
            user=request.user,
            csrf_token=csrf(request)["csrf_token"],
            polled=True,
        )
    else:
        html = render_to_string("jobs/detail_live.html", {"job": job, "polled": True}, request)
    if not job.is_finished:
        return HttpResponse(html)
    response = HttpResponseStopPolling(html)
    # The job page then reloads its content once: files, summary and the complete row log.
    response["HX-Trigger"] = "job-finished"
    return response


@require_POST
@organization_required
def cancel(request, pk: int):
    job = job_get(organization=request.organization, pk=pk)
    if not _can_control(request, job):
        raise PermissionDenied("Only the person who started this job or an admin can cancel it.")
    if job.is_finished:
        messages.info(request, f"Job #{job.pk} had already finished.")
    else:
        job_cancel(job=job)
        if job.status == DataJob.Status.CANCELLED:
            messages.success(request, f"Job #{job.pk} was cancelled.")
        else:
            messages.info(request, f"Job #{job.pk} will stop after the batch it is working on.")
    return redirect("jobs:detail", pk=job.pk)


@require_POST
@organization_required
def mark_failed(request, pk: int):
    job = job_get(organization=request.organization, pk=pk)
    if not _can_control(request, job):
        raise PermissionDenied(
            "Only the person who started this job or an admin can mark it failed."
        )
    if job_mark_stalled_failed(job=job):
        messages.success(request, f"Job #{job.pk} was marked failed.")
    else:
        messages.info(request, f"Job #{job.pk} is not stalled; it was left as it is.")
    if request.POST.get("next") == "dashboard":
        return redirect("jobs:dashboard")
    return redirect("jobs:detail", pk=job.pk)


@require_POST
@organization_required
def worker_check(request):
    if not request.membership.is_admin:
        raise PermissionDenied("Only an admin can check the worker.")
    job = worker_check_queue(organization=request.organization, user=request.user)
    workers = workers_state()
    if workers.any_alive:
        alive = f"{workers.alive} worker{'s are' if workers.alive != 1 else ' is'} running"
        messages.success(
            request,
            f"{alive}. Worker check #{job.pk} is queued; it should finish in a few seconds.",
        )
    else:
        messages.warning(request, workers_silent_message(workers=workers, job=job))
    return redirect("jobs:dashboard")


@require_GET
@organization_required
def download(request, pk: int, kind: str):
    job = job_get(organization=request.organization, pk=pk)
    if not _can_download(request, job):
        raise PermissionDenied("You do not have permission to download this job's files.")
    file = job_file(job=job, kind=kind)
    try:
        handle = file.storage.open(file.name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("This file is no longer available.") from exc
    return FileResponse(handle, as_attachment=True, filename=file.filename)
