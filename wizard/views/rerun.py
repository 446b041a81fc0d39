"""The results page's upload of the fixed failed-rows file (into the same import)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.decorators import organization_required
from jobs.errors import FerryError
from wizard.rerun import failed_rows_import
from wizard.views.steps import _can_control, _draft


class FailedRowsForm(forms.Form):
    file = forms.FileField(label="Fixed failed-rows file")


def failed_rows_message(result: dict) -> str:
    text = (
        f"{result['rows']:,} fixed row{'s' if result['rows'] != 1 else ''} re-imported: "
        f"{result['created']:,} created, {result['updated']:,} updated"
    )
    if result["failed"]:
        text += f", {result['failed']:,} still failing (see the row log)"
    return text + "."


@require_POST
@organization_required
def failed_rows_upload(request, job_id: int):
    job, _ = _draft(request, job_id)
    if not _can_control(request, job):
        raise PermissionDenied(
            "Only the person who ran this import or an admin can add rows to it."
        )
    form = FailedRowsForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose the fixed failed-rows file to upload.")
        return redirect("wizard:results", job.pk)
    upload = form.cleaned_data["file"]
    try:
        result = failed_rows_import(job=job, file=upload, filename=upload.name, user=request.user)
    except FerryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, failed_rows_message(result))
    return redirect("wizard:results", job.pk)
