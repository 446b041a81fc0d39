"""The results page's upload of the fixed failed-rows file (into the same import).

The upload is stored and checked here; the rows are imported by the worker, and the results
page shows the pass's progress (results.py) until its counts are the import's.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.decorators import organization_required
from jobs.errors import FerryError
from jobs.uploads import upload_declared_check
from wizard.rerun import failed_rows_start
from wizard.views.steps import _can_control, _draft


class FailedRowsForm(forms.Form):
    file = forms.FileField(label="Fixed failed-rows file")


@require_POST
@organization_required
def failed_rows_upload(request, job_id: int):
    job, _ = _draft(request, job_id)
    if not _can_control(request, job):
        raise PermissionDenied(
            "Only the person who ran this import or an admin can add rows to it."
        )
    try:
        upload_declared_check(meta=request.META)
    except FerryError as exc:
        messages.error(request, exc.message)
        return redirect("wizard:results", job.pk)
    form = FailedRowsForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose the fixed failed-rows file to upload.")
        return redirect("wizard:results", job.pk)
    upload = form.cleaned_data["file"]
    try:
        failed_rows_start(job=job, file=upload, filename=upload.name, user=request.user)
    except FerryError as exc:
        messages.error(request, exc.message)
    return redirect("wizard:results", job.pk)
