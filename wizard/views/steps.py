"""The import wizard: upload → configure & map → preview → run → results.

Every step's URL carries the draft job's id, and everything a person decides is stored on that
job at once, so the back button and a reload never lose work. The draft is looked up inside the
request's organization (another organization's draft is a 404) and the resource's import
permission is required (403 without it).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from accounts.decorators import organization_required
from accounts.scoping import get_scoped_or_404, require_perm
from business.resources import UnknownResource, resource_get, resources_for
from jobs.errors import FerryError, LimitExceeded
from jobs.models import DataJob, JobLogEntry
from jobs.selectors import job_controllable
from jobs.services import job_cancel
from jobs.uploads import upload_declared_check
from library.selectors import template_can_manage, template_get, templates_offered
from wizard import flow, preview_problems, services
from wizard.engine.params import ImportParams
from wizard.forms import (
    CellEditForm,
    MappingForm,
    ReadForm,
    ReferenceForm,
    RunForm,
    SaveTemplateForm,
    UndoForm,
    UploadForm,
)
from wizard.preview_settings import preview_settings_context
from wizard.selectors import (
    import_can_undo,
    import_result_counts,
    preview_counts,
    preview_rows,
    reference_choices,
)
from wizard.tables import ImportRowTable, RowNumberPaginator

PREVIEW_PAGE_SIZE = 25
LOG_PAGE_SIZE = 50
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


# --- 1. upload -----------------------------------------------------------------------------


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


# --- 2. configure & map --------------------------------------------------------------------


def _map_context(request, job, resource, *, form=None, read_form=None, template_form=None):
    info = flow.file_info(job)
    headers = list(info.get("headers") or [])
    params = ImportParams.from_job(job)
    mapping = params.mapping
    if form is None:
        initial = {f"col_{i}": mapping.get(h, "") for i, h in enumerate(headers)}
        form = MappingForm(
            initial=initial, headers=headers, resource=resource, options=params.options
        )
    if read_form is None:
        read_form = ReadForm(initial=_read_initial(info), file_info=info)
    if template_form is None:
        template = flow.wizard_template(job)
        template_form = SaveTemplateForm(
            initial={"name": "" if template else f"{resource.label} from {job.input_filename}"},
            can_share=template_can_manage(membership=request.membership),
        )
    reasons = flow.column_reasons(job)
    samples = info.get("sample_rows") or []
    columns = []
    for index, header in enumerate(headers):
        values = [row[index] for row in samples if index < len(row)]
        shown = [v for v in values if v not in (None, "")][:3]
        columns.append(
            {
                "index": index,
                "header": header,
                "samples": shown,
                "field": form.column_fields()[index],
                "reason": reasons.get(header, ""),
            }
        )
    options = params.options
    shown = set(mapping.values()) | {name for name, opt in options.items() if opt}
    mapped = [f for f in form.importable.values() if f.name in shown]
    return _base(
        request,
        "map",
        job,
        resource,
        info=info,
        form=form,
        read_form=read_form,
        template_form=template_form,
        columns=columns,
        missing=flow.missing_required(job),
        mapped_fields=[{"field": f, "options": form.option_fields(f.name)} for f in mapped],
        template=flow.wizard_template(job),
        proposed=flow.wizard_proposed_template(job),
    )


def _read_initial(info: dict) -> dict:
    return {
        "encoding": (info.get("encoding") or "").lower(),
        "delimiter": info.get("delimiter") or ",",
        "sheet": info.get("sheet") or "",
        "header_row": info.get("header_row") or 1,
    }


@require_http_methods(["GET", "POST"])
@organization_required
def map_step(request, job_id: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    if request.method == "GET":
        return render(request, "wizard/map.html", _map_context(request, job, resource))
    action = request.POST.get("action", "continue")
    if action == "read":
        return _map_read(request, job, resource)
    if action in ("apply-template", "dismiss-template"):
        return _map_template_choice(request, job, resource, action)
    info = flow.file_info(job)
    form = MappingForm(
        request.POST,
        headers=list(info.get("headers") or []),
        resource=resource,
        options=ImportParams.from_job(job).options,
    )
    if form.is_valid():
        try:
            job = flow.wizard_save_mapping(
                job=job,
                mapping=form.mapping(),
                options=form.options(ImportParams.from_job(job).options),
            )
        except FerryError as exc:
            form.add_error(None, exc.message)
    if action == "autosave":
        context = _map_context(request, job, resource, form=form)
        context["oob"] = True
        return render(request, "wizard/map_status.html", context)
    if form.is_valid() and not form.non_field_errors():
        if flow.missing_required(job):
            messages.error(request, "Map the required fields (or give them a default) first.")
        else:
            try:
                flow.wizard_preview_start(job=job)
            except FerryError as exc:
                messages.error(request, exc.message)
            else:
                return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
    context = _map_context(request, job, resource, form=form)
    return render(request, "wizard/map.html", context, status=400)


def _map_read(request, job, resource):
    info = flow.file_info(job)
    read_form = ReadForm(request.POST, file_info=info)
    if read_form.is_valid():
        try:
            job = flow.wizard_reinspect(job=job, read=read_form.read_params())
        except FerryError as exc:
            read_form.add_error(None, exc.message)
        else:
            read_form = None
    context = _map_context(request, job, resource, read_form=read_form)
    if read_form is None:
        context["notice"] = "The file was read again with your settings."
    status = 400 if read_form is not None else 200
    if request.htmx:
        return render(request, "wizard/map_body.html", context, status=status)
    return render(request, "wizard/map.html", context, status=status)


def _map_template_choice(request, job, resource, action):
    if action == "apply-template":
        template = template_get(
            organization=request.organization,
            membership=request.membership,
            pk=request.POST.get("template"),
        )
        if template.resource != job.target:
            raise Http404("Template not found.")
        try:
            flow.wizard_apply_template(job=job, template=template)
        except FerryError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Applied the template '{template.name}'.")
    else:
        flow.wizard_dismiss_template(job=job)
    return _hx_redirect(request, reverse("wizard:map", args=[job.pk]))


@require_POST
@organization_required
def save_template(request, job_id: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    info = flow.file_info(job)
    form = MappingForm(
        request.POST,
        headers=list(info.get("headers") or []),
        resource=resource,
        options=ImportParams.from_job(job).options,
    )
    template_form = SaveTemplateForm(
        request.POST, can_share=template_can_manage(membership=request.membership)
    )
    saved = None
    if form.is_valid() and template_form.is_valid():
        try:
            job = flow.wizard_save_mapping(
                job=job,
                mapping=form.mapping(),
                options=form.options(ImportParams.from_job(job).options),
            )
            saved = flow.wizard_save_template(
                job=job,
                membership=request.membership,
                name=template_form.cleaned_data["name"],
                description=template_form.cleaned_data.get("description", ""),
                is_shared=template_form.cleaned_data.get("is_shared", False),
            )
        except FerryError as exc:
            template_form.add_error("name", exc.message)
    elif not form.is_valid():
        template_form.add_error(None, "Fix the mapping above before saving it as a template.")
    context = _map_context(request, job, resource, template_form=template_form)
    context["saved_template"] = saved
    status = 200 if saved else 400
    if request.htmx:
        return render(request, "wizard/map_template.html", context, status=status)
    if saved:
        messages.success(request, f"Saved the template '{saved.name}'.")
        return redirect("wizard:map", job.pk)
    return render(request, "wizard/map.html", context, status=status)


# --- 3. preview ----------------------------------------------------------------------------


def _preview_context(request, job, resource, preview):
    problems = request.GET.get("problems") == "1"
    column, kind = request.GET.get("column", ""), request.GET.get("kind", "")
    rows = preview_rows(job=job, problems_only=problems or bool(kind))
    rows = preview_problems.preview_rows_with(rows=rows, preview=preview, column=column, kind=kind)
    headers = list(flow.file_info(job).get("headers") or [])
    table = ImportRowTable(rows, headers=headers, job=job, resource=resource)
    paginate: dict = {"per_page": PREVIEW_PAGE_SIZE, "paginator_class": RowNumberPaginator}
    if problems or kind:
        # Counting the rows with problems means reading every stored row; page without it.
        paginate["paginator_class"] = LazyPaginator
    RequestConfig(request, paginate=paginate).configure(table)
    table.lazy = problems or bool(kind)
    counts = preview_counts(job=job, preview=preview)
    return _base(
        request,
        "preview",
        job,
        resource,
        preview=preview,
        table=table,
        problems=problems,
        counts=counts,
        stale=flow.preview_is_stale(job),
        missing=flow.missing_required(job),
        **preview_problems.preview_problems_context(
            job=job, preview=preview, resource=resource, counts=counts, column=column, kind=kind
        ),
        **preview_settings_context(job=job, preview=preview),
    )


@require_http_methods(["GET", "POST"])
@organization_required
def preview(request, job_id: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    if request.method == "POST":
        if flow.missing_required(job):
            messages.error(request, "Map the required fields first.")
            return _hx_redirect(request, reverse("wizard:map", args=[job.pk]))
        try:
            flow.wizard_preview_start(job=job)
        except FerryError as exc:
            messages.error(request, exc.message)
        return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
    child = flow.preview_job(job)
    context = _preview_context(request, job, resource, child)
    if request.htmx and request.htmx.target == "preview-table":
        return render(request, "wizard/preview_table.html", context)
    return render(request, "wizard/preview.html", context)


@require_GET
@organization_required
def preview_status(request, job_id: int):
    job, resource = _draft(request, job_id)
    child = flow.preview_job(job)
    if child is None or child.is_finished:
        # The page swaps in the finished preview by reloading itself once.
        response = HttpResponse(status=200)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "wizard/preview_progress.html", {"job": job, "preview": child})


@require_http_methods(["GET", "POST"])
@organization_required
def cell_edit(request, job_id: int, row_number: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    row = _row(job, row_number)
    headers = list(flow.file_info(job).get("headers") or [])
    if request.method == "GET":
        column = request.GET.get("column", "")
        if column not in headers:
            raise Http404("Unknown column.")
        if request.GET.get("cancel"):
            return _render_row(request, job, resource, row, headers)
        form = CellEditForm(initial={"column": column, "value": row.effective_values.get(column)})
        return render(
            request,
            "wizard/preview_cell_form.html",
            {
                "job": job,
                "row": row,
                "column": column,
                "form": form,
                "errors": (row.errors or {}).get(column, []),
                "fix": preview_problems.cell_fix_options(job=job, resource=resource, column=column),
            },
        )
    form = CellEditForm(request.POST)
    if not form.is_valid() or form.cleaned_data["column"] not in headers:
        raise Http404("Unknown column.")
    column = form.cleaned_data["column"]
    try:
        row = services.import_row_edit(
            job=job, row_number=row.row_number, column=column, value=form.cleaned_data["value"]
        )
    except FerryError as exc:
        return render(
            request,
            "wizard/preview_cell_form.html",
            {"job": job, "row": row, "column": column, "form": form, "errors": [exc.message]},
            status=400,
        )
    return _render_row(request, job, resource, row, headers, counts=True)


def _row(job, row_number: int):
    from wizard.models import ImportRow

    try:
        return ImportRow.objects.get(job=job, row_number=row_number)
    except ImportRow.DoesNotExist as exc:
        raise Http404("Row not found.") from exc


def _render_row(request, job, resource, row, headers, *, counts: bool = False):
    table = ImportRowTable([row], headers=headers, job=job, resource=resource)
    # The swapped-in row takes the focus back, so keyboard users stay where they were.
    context = {"table": table, "row": table.rows[0], "job": job, "focus_row": True}
    if counts:
        context["counts"] = preview_counts(job=job, preview=flow.preview_job(job))
        context["oob_counts"] = True
    return render(request, "wizard/preview_row.html", context)


@require_POST
@organization_required
def references(request, job_id: int):
    """Decide what to do with unresolved references, then check the file again."""
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    form = ReferenceForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
    field, value, action = (form.cleaned_data[k] for k in ("field", "value", "action"))
    spec = resource.field_map().get(field)
    if spec is None or spec.ref is None:
        raise Http404("Unknown reference field.")
    params = ImportParams.from_job(job)
    create_missing, reference_map = params.create_missing, params.reference_map
    if action == "create":
        if not spec.ref.creatable:
            messages.error(request, f"Ferry cannot create {spec.label} records during an import.")
            return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
        create_missing[field] = True
        note = f"Missing {spec.label.lower()} records will be created."
    elif action == "map":
        target = form.cleaned_data["target"]
        if target not in reference_choices(job=job, resource=resource, field=field, search=target):
            messages.error(request, f"There is no {spec.label.lower()} '{target}'.")
            return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
        reference_map.setdefault(field, {})[value] = target
        note = f"'{value}' will use the existing {spec.label.lower()} '{target}'."
    elif value:
        reference_map.get(field, {}).pop(value, None)
        note = f"'{value}' is unknown again."
    else:
        create_missing.pop(field, None)
        note = f"Missing {spec.label.lower()} records will not be created."
    try:
        flow.wizard_configure(job=job, create_missing=create_missing, reference_map=reference_map)
        flow.wizard_preview_start(job=job)
    except FerryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, note + " The preview is being checked again.")
    return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))


@require_GET
@organization_required
def reference_options(request, job_id: int):
    """Existing keys of a referenced resource, for the "map to existing record" search."""
    job, resource = _draft(request, job_id)
    field = request.GET.get("field", "")
    spec = resource.field_map().get(field)
    if spec is None or spec.ref is None:
        raise Http404("Unknown reference field.")
    choices = reference_choices(
        job=job,
        resource=resource,
        field=field,
        # "value": the cell fix's search box, which posts its text under that name.
        search=request.GET.get("target") or request.GET.get("q") or request.GET.get("value", ""),
    )
    return render(
        request,
        "wizard/preview_reference_options.html",
        {"choices": choices, "list_id": request.GET.get("list", "")},
    )


# --- 4. run --------------------------------------------------------------------------------


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


# --- 5. results ----------------------------------------------------------------------------


@require_GET
@organization_required
def results(request, job_id: int):
    job, resource = _draft(request, job_id)
    if not job.is_finished:
        return redirect(reverse(f"wizard:{_step_for(job)}", args=[job.pk]))
    level = request.GET.get("level", "")
    entries = JobLogEntry.objects.filter(job=job)
    if level in ("error", "warning", "info"):
        entries = entries.filter(level=level)
    log_page = Paginator(entries.order_by("row_number", "pk"), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    files = (job.summary or {}).get("files") or {}
    context = _base(
        request,
        "results",
        job,
        resource,
        counts=import_result_counts(job=job),
        log_page=log_page,
        level=level,
        failed_rows_url=(
            reverse("jobs:download", args=[job.pk, "failed-rows"])
            if "failed-rows" in files
            else None
        ),
        input_url=reverse("jobs:download", args=[job.pk, "input"]) if job.input_file else None,
        undo=(job.summary or {}).get("undo"),
        can_undo=import_can_undo(job=job) and _can_control(request, job),
        records_url=f"/records/{resource.name}/",
    )
    if request.htmx and request.htmx.target == "row-log":
        return render(request, "wizard/results_log.html", context)
    return render(request, "wizard/results.html", context)


@require_http_methods(["GET", "POST"])
@organization_required
def undo(request, job_id: int):
    job, resource = _draft(request, job_id)
    if not job.is_finished:
        return redirect(reverse(f"wizard:{_step_for(job)}", args=[job.pk]))
    if not import_can_undo(job=job):
        messages.info(request, "There is nothing (left) to undo in this import.")
        return redirect("wizard:results", job.pk)
    if not _can_control(request, job):
        raise PermissionDenied("Only the person who ran this import or an admin can undo it.")
    # One service computes the plan the page shows and the undo carries out; the page posts
    # back the plan's digest, so a plan that changed meanwhile is shown again, not carried out.
    plan = services.import_undo_plan(job=job)
    forced = services.import_undo_plan(job=job, force=True) if plan.conflicts else None
    if request.method == "POST":
        form = UndoForm(request.POST)
        form.is_valid()
        force = bool(form.cleaned_data.get("force")) and forced is not None
        expected = form.cleaned_data.get("forced_plan" if force else "plan") or None
        try:
            services.import_undo(job=job, user=request.user, force=force, expected=expected)
        except FerryError as exc:
            if exc.code == "undo_plan_changed":
                messages.warning(request, exc.message)
                return redirect("wizard:undo", job.pk)
            messages.error(request, exc.message)
        # The results page then shows what the undo did (and what it kept) from the summary.
        return redirect("wizard:results", job.pk)
    form = UndoForm(
        initial={"plan": plan.digest(), "forced_plan": forced.digest() if forced else ""}
    )
    context = _base(
        request,
        "results",
        job,
        resource,
        form=form,
        plan=plan,
        forced=forced,
        undo=(job.summary or {}).get("undo"),
    )
    return render(request, "wizard/undo.html", context)
