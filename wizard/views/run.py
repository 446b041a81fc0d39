"""Step 4, run: the real run started, its progress polled, cancelled."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.decorators import organization_required
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_cancel
from wizard import flow, preview_problems, services
from wizard.engine.params import ImportParams
from wizard.forms import RunForm
from wizard.selectors import preview_counts
from wizard.views.steps import _base, _can_control, _draft, _hx_redirect, _step_for


def _run_context(request, job, resource, form=None):
    params = ImportParams.from_job(job)
    if form is None:
        form = RunForm(initial={"on_duplicate": params.on_duplicate, "mode": params.mode})
    child = flow.preview_job(job)
    counts = preview_counts(job=job, preview=child) if child else None
    return _base(
        request,
        "run",
        job,
        resource,
        form=form,
        preview=child,
        counts=counts,
        outcome=preview_problems.import_outcome(counts=counts, mode=params.mode),
        missing=flow.missing_required(job),
        can_cancel=_can_control(request, job),
    )


@require_http_methods(["GET", "POST"])
@organization_required
def run(request, job_id: int):
    job, resource = _draft(request, job_id)
    if job.is_finished:
        return _hx_redirect(request, reverse("wizard:results", args=[job.pk]))
    if request.method == "POST":
        if job.status != DataJob.Status.PENDING:
            return redirect("wizard:run", job.pk)
        form = RunForm(request.POST)
        if form.is_valid():
            try:
                params = ImportParams.from_job(job)
                changed = {k: v for k, v in form.cleaned_data.items() if getattr(params, k) != v}
                if changed:
                    # Only real changes: the engine forgets a preview whose settings changed.
                    flow.wizard_configure(job=job, **changed)
                services.import_start(job=job)
            except FerryError as exc:
                form.add_error(None, exc.message)
            else:
                return _hx_redirect(request, reverse("wizard:run", args=[job.pk]))
        return render(
            request, "wizard/run.html", _run_context(request, job, resource, form), status=400
        )
    return render(request, "wizard/run.html", _run_context(request, job, resource))


@require_GET
@organization_required
def run_status(request, job_id: int):
    job, resource = _draft(request, job_id)
    if job.is_finished:
        # Stop polling and go to the results (htmx follows HX-Redirect on a 286 too).
        response = HttpResponseStopPolling()
        response["HX-Redirect"] = reverse("wizard:results", args=[job.pk])
        return response
    context = _run_context(request, job, resource)
    context["now"] = timezone.now()
    return render(request, "wizard/run_progress.html", context)


@require_POST
@organization_required
def cancel(request, job_id: int):
    job, _ = _draft(request, job_id)
    if not _can_control(request, job):
        raise PermissionDenied("Only the person who started this import or an admin can cancel it.")
    child = flow.preview_job(job)
    if job.status == DataJob.Status.PENDING and child is not None and child.is_active:
        job_cancel(job=child)
        messages.info(request, "The preview was cancelled.")
        return _hx_redirect(request, reverse("wizard:map", args=[job.pk]))
    if job.is_active:
        job_cancel(job=job)
        messages.info(request, "Cancelling: the import stops after the batch it is working on.")
    return _hx_redirect(request, reverse(f"wizard:{_step_for(job)}", args=[job.pk]))
