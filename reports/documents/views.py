"""Print one order's document, or queue a batch from the orders' records page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import organization_required
from jobs.errors import FerryError
from reports.documents.download import document_serve
from reports.documents.forms import DocumentsBatchForm
from reports.documents.kinds import document_get
from reports.documents.services import documents_batch_start
from reports.exporters import UnknownExporter


@require_GET
@organization_required
def document_download(request, pk: int, kind: str):
    try:
        return document_serve(
            membership=request.membership,
            pk=pk,
            kind=kind,
            via="page",
            inline=request.GET.get("inline") == "1",
        )
    except UnknownExporter as exc:
        raise Http404(exc.message) from exc


@require_POST
@organization_required
def documents_batch(request):
    form = DocumentsBatchForm(request.POST)
    back = request.POST.get("next") or "/records/sales-orders/"
    if not back.startswith("/") or back.startswith("//"):
        back = "/records/sales-orders/"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        job = documents_batch_start(
            organization=request.organization,
            user=request.user,
            document=document_get(form.cleaned_data["kind"]),
            format=form.cleaned_data["format"],
            params=form.params(),
        )
    except FerryError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return redirect("jobs:detail", pk=job.pk)
