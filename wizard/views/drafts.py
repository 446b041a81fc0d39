"""Unfinished imports: the list of drafts with resume and discard (see wizard/drafts.py)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import organization_required
from jobs.errors import FerryError
from wizard.drafts import draft_discard, draft_get, drafts_for


@require_GET
@organization_required
def drafts(request):
    context = {
        "drafts": drafts_for(
            organization=request.organization, user=request.user, membership=request.membership
        ).select_related("user")
    }
    return render(request, "wizard/drafts.html", context)


@require_POST
@organization_required
def discard(request, job_id: int):
    job = draft_get(
        organization=request.organization,
        user=request.user,
        membership=request.membership,
        pk=job_id,
    )
    name = job.input_filename or f"import #{job.pk}"
    try:
        draft_discard(job=job)
    except FerryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The unfinished import of {name} was discarded.")
    return redirect("wizard:drafts")
