"""One file, several record types: upload → proposed targets with a preview → import.

A thin front for wizard.multi. Uploading runs the suggested targets as a dry run (the preview);
the review page lets a person change which targets and how duplicates are handled, preview again
or import for real. Every run is a job of its own and reads the file stored on the previous one.
The worker runs the passes; the review page shows which target it is on (htmx polling) and
then the counts.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

from accounts.decorators import organization_required
from accounts.scoping import get_scoped_or_404
from business.resources import resource_get, resources_for
from jobs.errors import FerryError
from jobs.models import DataJob
from library.models import DataTemplate
from wizard.engine.params import ImportParams
from wizard.forms import ACCEPT_ATTR
from wizard.mapping import mapping_targets
from wizard.multi import import_multi_start, multi_progress, multi_targets_suggest
from wizard.selectors import import_can_undo
from wizard.services.draft import ImportNotAllowed

# The single-type wizard's choices: the same engine setting, the same words.
DUPLICATE_CHOICES = DataTemplate.OnDuplicate.choices


class MultiUploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="CSV, TSV, Excel (xlsx, xls), OpenDocument (ods), JSON or JSON Lines.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR}),
    )
    on_duplicate = forms.ChoiceField(
        label="When a record already exists",
        choices=DUPLICATE_CHOICES,
        initial="skip",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The size rule itself is import_create's; this only says it up front.
        limit = settings.FERRY["MAX_UPLOAD_BYTES"]
        self.fields["file"].help_text += f" Up to {filesizeformat(limit)}."


class MultiRunForm(forms.Form):
    targets = forms.MultipleChoiceField(
        label="Record types", widget=forms.CheckboxSelectMultiple, required=False
    )
    on_duplicate = forms.ChoiceField(
        label="When a record already exists", choices=DUPLICATE_CHOICES, widget=forms.RadioSelect
    )
    action = forms.ChoiceField(choices=[("preview", "Preview"), ("import", "Import")])

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].choices = [(t.resource, t.resource) for t in targets]


def _allowed_or_403(request) -> None:
    if not resources_for(request.membership, "import"):
        raise PermissionDenied("You do not have permission to import anything.")


def _mapping_shown(target, headers: list[str]) -> list[tuple[str, str]]:
    """(column, field label) pairs in the file's column order."""
    fields = mapping_targets(resource_get(target.resource))
    return [
        (
            h,
            str(fields[target.mapping[h]].label)
            if target.mapping[h] in fields
            else target.mapping[h],
        )
        for h in headers
        if h in target.mapping
    ]


def _multi_job(request, job_id: int) -> DataJob:
    job = get_scoped_or_404(
        DataJob.objects.filter(job_type=DataJob.Type.IMPORT), request.organization, pk=job_id
    )
    if not ImportParams.from_job(job).extra.get("targets"):
        raise Http404("Not found.")
    return job


@require_http_methods(["GET", "POST"])
@organization_required
def multi_upload(request):
    _allowed_or_403(request)
    form = MultiUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_multi_start(
                organization=request.organization,
                user=request.user,
                file=upload,
                filename=upload.name,
                on_duplicate=form.cleaned_data["on_duplicate"],
                dry_run=True,
            )
        except FerryError as exc:
            form.add_error(None, exc.message)
            status = 403 if isinstance(exc, ImportNotAllowed) else 400
        else:
            return redirect("wizard:multi_review", job_id=job.pk)
    return render(request, "wizard/multi.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@organization_required
def multi_review(request, job_id: int):
    _allowed_or_403(request)
    job = _multi_job(request, job_id)
    params = ImportParams.from_job(job)
    if job.is_active or (request.htmx and request.htmx.target == "multi-progress"):
        return _multi_running(request, job, params)
    info = params.file_info
    headers = [str(h) for h in info.get("headers") or []]
    proposed = multi_targets_suggest(
        headers=headers,
        samples=info.get("sample_rows") or [],
        organization=request.organization,
    )
    chosen = [t["resource"] for t in params.extra["targets"]]
    form = MultiRunForm(
        request.POST or None,
        targets=proposed,
        initial={"targets": chosen, "on_duplicate": params.on_duplicate, "action": "preview"},
    )
    status = 200
    if request.method == "POST" and not params.dry_run:
        raise Http404("This import has run; start another from its file.")
    if request.method == "POST" and form.is_valid():
        wanted = set(form.cleaned_data["targets"])
        real = form.cleaned_data["action"] == "import"
        try:
            run = import_multi_start(
                organization=request.organization,
                user=request.user,
                source=job,
                targets=[t for t in proposed if t.resource in wanted],
                on_duplicate=form.cleaned_data["on_duplicate"],
                dry_run=not real,
            )
        except FerryError as exc:
            form.add_error(None, exc.message)
            status = 403 if isinstance(exc, ImportNotAllowed) else 400
        else:
            return redirect("wizard:multi_review", job_id=run.pk)
    counts = job.summary.get("targets", {}) if job.summary.get("multi") else {}
    rows = [
        {
            "name": t.resource,
            "label": resource_get(t.resource).label,
            "mapping": _mapping_shown(t, headers),
            "checked": t.resource in (form.data.getlist("targets") if form.is_bound else chosen),
            "counts": counts.get(t.resource) if t.resource in chosen else None,
        }
        for t in proposed
    ]
    context = {
        "job": job,
        "form": form,
        "rows": rows,
        "summary": job.summary,
        # A real run's page reports what was written, with the job and its undo.
        "done": not params.dry_run,
        "can_undo": not params.dry_run and import_can_undo(job=job),
    }
    return render(request, "wizard/multi_review.html", context, status=status)


def _multi_running(request, job: DataJob, params: ImportParams):
    """A queued or running job: which target the worker is on, polled until it is done."""
    if request.method == "POST":
        raise Http404("This file is being imported; wait for the run to end.")
    if job.is_finished:
        # Stop polling; the whole page again, with the counts.
        response = HttpResponseStopPolling()
        response["HX-Redirect"] = reverse("wizard:multi_review", args=[job.pk])
        return response
    context = {"job": job, "dry_run": params.dry_run, "targets": multi_progress(job=job)}
    if request.htmx and request.htmx.target == "multi-progress":
        return render(request, "wizard/multi_review_progress.html", context)
    return render(request, "wizard/multi_review.html", {**context, "running": True})
