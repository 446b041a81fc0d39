"""Step 5, results: what the run did, its log, and undoing it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from accounts.decorators import organization_required
from jobs.errors import FerryError
from jobs.models import JobLogEntry
from wizard import services
from wizard.forms import UndoForm
from wizard.rerun import FAILED_ROWS_FOR, failed_rows_message, failed_rows_passes
from wizard.selectors import import_can_undo, import_result_counts
from wizard.views.steps import _base, _can_control, _draft, _step_for

LOG_PAGE_SIZE = 50


@require_GET
@organization_required
def results(request, job_id: int):
    job, resource = _draft(request, job_id)
    into = (job.params or {}).get(FAILED_ROWS_FOR)
    if into:
        # A pass of fixed rows reports on the import it added them to.
        return redirect("wizard:results", into)
    if not job.is_finished:
        return redirect(reverse(f"wizard:{_step_for(job)}", args=[job.pk]))
    rerun = failed_rows_passes(job=job).first()
    rerun_active = rerun is not None and rerun.is_active
    if request.htmx and request.htmx.target == "failed-rows-progress":
        if not rerun_active:
            # Stop polling; the whole page again, with the import's new counts.
            response = HttpResponseStopPolling()
            response["HX-Redirect"] = reverse("wizard:results", args=[job.pk])
            return response
        return render(request, "wizard/results_rerun.html", {"job": job, "rerun": rerun})
    level = request.GET.get("level", "")
    entries = JobLogEntry.objects.filter(job=job)
    if level in ("error", "warning", "info"):
        entries = entries.filter(level=level)
    log_page = Paginator(entries.order_by("row_number", "pk"), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    files = (job.summary or {}).get("files") or {}
    context = _base(
        request,
        "results",
        job,
        resource,
        counts=import_result_counts(job=job),
        log_page=log_page,
        level=level,
        failed_rows_url=(
            reverse("jobs:download", args=[job.pk, "failed-rows"])
            if "failed-rows" in files
            else None
        ),
        input_url=reverse("jobs:download", args=[job.pk, "input"]) if job.input_file else None,
        undo=(job.summary or {}).get("undo"),
        # Not while fixed rows are being added: the undo would miss what they write.
        can_undo=import_can_undo(job=job) and _can_control(request, job) and not rerun_active,
        records_url=f"/records/{resource.name}/",
        rerun=rerun,
        rerun_active=rerun_active,
        rerun_message=(
            failed_rows_message(rerun.summary)
            if rerun is not None and rerun.status == rerun.Status.COMPLETED and rerun.summary
            else ""
        ),
    )
    if request.htmx and request.htmx.target == "row-log":
        return render(request, "wizard/results_log.html", context)
    return render(request, "wizard/results.html", context)


@require_http_methods(["GET", "POST"])
@organization_required
def undo(request, job_id: int):
    job, resource = _draft(request, job_id)
    if not job.is_finished:
        return redirect(reverse(f"wizard:{_step_for(job)}", args=[job.pk]))
    if not import_can_undo(job=job):
        messages.info(request, "There is nothing (left) to undo in this import.")
        return redirect("wizard:results", job.pk)
    if not _can_control(request, job):
        raise PermissionDenied("Only the person who ran this import or an admin can undo it.")
    # One service computes the plan the page shows and the undo carries out; the page posts
    # back the plan's digest, so a plan that changed meanwhile is shown again, not carried out.
    plan = services.import_undo_plan(job=job)
    forced = services.import_undo_plan(job=job, force=True) if plan.conflicts else None
    if request.method == "POST":
        form = UndoForm(request.POST)
        form.is_valid()
        force = bool(form.cleaned_data.get("force")) and forced is not None
        expected = form.cleaned_data.get("forced_plan" if force else "plan") or None
        try:
            services.import_undo(job=job, user=request.user, force=force, expected=expected)
        except FerryError as exc:
            if exc.code == "undo_plan_changed":
                messages.warning(request, exc.message)
                return redirect("wizard:undo", job.pk)
            messages.error(request, exc.message)
        # The results page then shows what the undo did (and what it kept) from the summary.
        return redirect("wizard:results", job.pk)
    form = UndoForm(
        initial={"plan": plan.digest(), "forced_plan": forced.digest() if forced else ""}
    )
    context = _base(
        request,
        "results",
        job,
        resource,
        form=form,
        plan=plan,
        forced=forced,
        undo=(job.summary or {}).get("undo"),
    )
    return render(request, "wizard/undo.html", context)
