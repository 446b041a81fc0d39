"""The preview's per-run choices the file calls for (wizard.preview_settings)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.decorators import organization_required
from jobs.errors import FerryError
from wizard.preview_settings import SETTINGS, preview_setting_apply
from wizard.views.steps import _draft, _editable_or_redirect, _hx_redirect


class PreviewSettingForm(forms.Form):
    setting = forms.ChoiceField(choices=[(s, s) for s in SETTINGS])
    value = forms.CharField(max_length=40, required=False)
    field = forms.CharField(max_length=100, required=False)


@require_POST
@organization_required
def preview_setting(request, job_id: int):
    job, _ = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    back = reverse("wizard:preview", args=[job.pk])
    form = PreviewSettingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That choice was not understood; choose it again.")
        return _hx_redirect(request, back)
    try:
        note = preview_setting_apply(job=job, **form.cleaned_data)
    except FerryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, note)
    return _hx_redirect(request, back)
