"""The import wizard: upload → configure & map → preview → run → results.

What every step page shares: the step bar and the draft lookup. Every step's URL carries the
draft job's id, and everything a person decides is stored on that job at once, so the back button
and a reload never lose work. The draft is looked up inside the request's organization (another
organization's draft is a 404) and the resource's import permission is required (403 without it).

The steps' pages: upload.py, mapping.py, preview.py (with cell edits), run.py, results.py (with
undo).
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.scoping import get_scoped_or_404, require_perm
from business.resources import UnknownResource, resource_get
from jobs.models import DataJob
from jobs.selectors import job_controllable
from wizard import flow
from wizard.engine.params import ImportParams

STEPS = [
    ("upload", "Upload"),
    ("map", "Configure & map"),
    ("preview", "Preview"),
    ("run", "Run"),
    ("results", "Results"),
]


# --- helpers -------------------------------------------------------------------------------


def _resource(request, name: str):
    try:
        resource = resource_get(name)
    except UnknownResource as exc:
        raise Http404("Unknown resource.") from exc
    require_perm(request, resource.import_permission())
    return resource


def _draft(request, job_id: int):
    job = get_scoped_or_404(
        DataJob.objects.filter(job_type=DataJob.Type.IMPORT), request.organization, pk=job_id
    )
    if ImportParams.from_job(job).dry_run:
        # A preview's child job is not a wizard draft.
        raise Http404("Not found.")
    return job, _resource(request, job.target)


def _hx_redirect(request, url: str):
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _can_control(request, job: DataJob) -> bool:
    return job_controllable(job=job, membership=request.membership, user=request.user)


def _step_for(job: DataJob) -> str:
    if job.status == DataJob.Status.PENDING:
        return "preview" if flow.preview_job(job) else "map"
    if job.is_active:
        return "run"
    return "results"


def _editable_or_redirect(request, job: DataJob):
    """Steps 2–3 only change a draft; a started import is shown on its run/results page."""
    if job.status != DataJob.Status.PENDING:
        return _hx_redirect(request, reverse(f"wizard:{_step_for(job)}", args=[job.pk]))
    return None


def _steps(current: str, job: DataJob | None) -> list[dict]:
    order = [key for key, _ in STEPS]
    index = order.index(current)
    items = []
    for i, (key, label) in enumerate(STEPS):
        url = None
        if job is not None and key in ("map", "preview") and job.status == DataJob.Status.PENDING:
            url = reverse(f"wizard:{key}", args=[job.pk])
        elif job is None and key == "upload":
            url = reverse("wizard:start")
        items.append(
            {"key": key, "label": label, "done": i < index, "current": i == index, "url": url}
        )
    return items


def _base(request, step: str, job: DataJob | None, resource=None, **extra) -> dict:
    return {"steps": _steps(step, job), "step": step, "job": job, "resource": resource, **extra}
