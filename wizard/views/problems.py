"""The preview's problems panel: bulk fixes of one kind of problem in one column."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.decorators import organization_required
from jobs.errors import FerryError
from wizard import preview_problems
from wizard.views.steps import _draft, _editable_or_redirect, _hx_redirect


class ProblemFixForm(forms.Form):
    column = forms.CharField(max_length=255, required=False)
    kind = forms.ChoiceField(choices=[(k, k) for k in preview_problems.KIND_BY_NAME])
    action = forms.ChoiceField(choices=list(preview_problems.ACTIONS.items()))
    value = forms.CharField(max_length=1000, required=False, strip=False)
    target = forms.CharField(max_length=1000, required=False)


@require_POST
@organization_required
def problem_fix(request, job_id: int):
    job, _ = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    back = reverse("wizard:preview", args=[job.pk])
    form = ProblemFixForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That fix was not understood; choose it again.")
        return _hx_redirect(request, back)
    # "Map these values": one <select name="to"> per offending value in <input name="from">.
    value_map = dict(zip(request.POST.getlist("from"), request.POST.getlist("to"), strict=False))
    try:
        note = preview_problems.problem_fix(job=job, value_map=value_map, **form.cleaned_data)
    except FerryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, note)
    return _hx_redirect(request, back)
