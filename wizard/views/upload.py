"""Step 1, upload: the file (and a saved template) that starts a draft import."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import organization_required
from business.resources import resources_for
from jobs.errors import FerryError, LimitExceeded
from jobs.models import DataJob
from jobs.uploads import upload_declared_check
from library.selectors import templates_offered
from wizard import flow
from wizard.engine.params import ImportParams
from wizard.forms import UploadForm
from wizard.views.steps import _base, _draft, _step_for


def _visible_templates(request):
    return templates_offered(
        organization=request.organization,
        user=request.user,
        template_type="import",
        resources=[r.name for r in resources_for(request.membership, "import")],
    )


# The declared length is checked before anything reads the body, and CsrfViewMiddleware reads
# it for every POST: the middleware is skipped here and the same check runs in _upload below.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@organization_required
def start(request):
    allowed = resources_for(request.membership, "import")
    if not allowed:
        raise PermissionDenied("You do not have permission to import anything.")
    if request.method == "POST":
        try:
            upload_declared_check(meta=request.META)
        except LimitExceeded as exc:
            return _upload_refused(request, allowed, exc.message)
    return _upload(request, allowed)


def _upload_refused(request, allowed, message: str):
    """413 without reading the body: the form as it was, with the message on the file field."""
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        errors = {"file": [{"message": message, "code": "limit"}]}
        return JsonResponse({"errors": errors}, status=413)
    templates = _visible_templates(request)
    form = UploadForm(membership=request.membership, templates=templates)
    # Unbound (the body was never read), so there is no cleaned data for add_error to update.
    form.cleaned_data = {}
    form.add_error("file", message)
    return _upload_page(request, allowed, form, templates, status=413)


@csrf_protect
def _upload(request, allowed):
    templates = _visible_templates(request)
    is_xhr = request.headers.get("x-requested-with") == "XMLHttpRequest"
    if request.method == "POST":
        form = UploadForm(
            request.POST, request.FILES, membership=request.membership, templates=templates
        )
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = flow.wizard_start(
                    organization=request.organization,
                    user=request.user,
                    resource=form.cleaned_data["resource"],
                    file=upload,
                    filename=upload.name,
                    template=form.cleaned_data["template"],
                )
            except FerryError as exc:
                form.add_error("file", exc.message)
            else:
                url = reverse("wizard:map", args=[job.pk])
                if is_xhr:
                    return JsonResponse({"redirect": url})
                return redirect(url)
        if is_xhr:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    else:
        initial = {}
        if request.GET.get("resource") in {r.name for r in allowed}:
            initial["resource"] = request.GET["resource"]
        if request.GET.get("template"):
            template = (
                templates.filter(pk=request.GET["template"]).first()
                if request.GET["template"].isdigit()
                else None
            )
            if template is not None:
                initial["template"] = template.pk
                initial.setdefault("resource", template.resource)
        form = UploadForm(initial=initial, membership=request.membership, templates=templates)
    return _upload_page(request, allowed, form, templates, status=400 if form.errors else 200)


def _upload_page(request, allowed, form, templates, *, status: int):
    drafts = ImportParams.real_runs(
        DataJob.objects.filter(
            organization=request.organization,
            user=request.user,
            job_type=DataJob.Type.IMPORT,
            status=DataJob.Status.PENDING,
            target__in=[r.name for r in allowed],
        )
    )[:5]
    template_resources = {t.pk: t.resource for t in templates}
    context = _base(
        request, "upload", None, form=form, drafts=drafts, template_resources=template_resources
    )
    return render(request, "wizard/upload.html", context, status=status)


@require_GET
@organization_required
def resume(request, job_id: int):
    job, _ = _draft(request, job_id)
    return redirect(reverse(f"wizard:{_step_for(job)}", args=[job.pk]))
