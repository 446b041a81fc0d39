"""The sync pages: dashboard, a connection (test, settings, selective import), a run's log."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import organization_required
from accounts.permissions import MANAGE_SYNC
from business.resources import resource_get
from jobs.errors import FerryError
from sync.forms import ConnectionForm, MappingForm, SettingsForm, StartForm
from sync.selectors import (
    available_page,
    connection_get,
    connections_for,
    run_get,
    runs_recent,
)
from sync.services import (
    connection_create,
    connection_mapping_preview,
    connection_test,
    connection_update,
    sync_start,
)


def sync_permission_required(view):
    @organization_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.has_perm(MANAGE_SYNC):
            raise PermissionDenied("Managing inventory syncs needs the can_manage_sync permission.")
        return view(request, *args, **kwargs)

    return wrapper


@sync_permission_required
def dashboard(request):
    org = request.organization
    return render(
        request,
        "sync/dashboard.html",
        {
            "connections": connections_for(organization=org),
            "runs": runs_recent(organization=org),
        },
    )


@sync_permission_required
def connection_new(request):
    form = ConnectionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            conn = connection_create(
                organization=request.organization,
                name=d["name"],
                upload=d["upload"] or None,
                path=d["path"],
                url=d["url"],
                table=d["table"],
                key_column=d["key_column"],
                filter_column=d["filter_column"],
                filter_value=d["filter_value"],
            )
        except FerryError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Connection '{conn.name}' registered.")
            return redirect("sync:detail", pk=conn.pk)
    return render(request, "sync/new.html", {"form": form})


@sync_permission_required
def connection_detail(request, pk: int):
    conn = connection_get(organization=request.organization, pk=pk)
    search = request.GET.get("q", "")
    try:
        page_number = int(request.GET.get("page") or 1)
    except ValueError:
        page_number = 1
    page = available_page(connection=conn, search=search, page=page_number)
    context = {
        "conn": conn,
        "page": page,
        "search": search,
        "runs": runs_recent(organization=request.organization, connection=conn),
        "settings_form": SettingsForm(
            initial={"auto_sync": conn.auto_sync, "interval_minutes": conn.interval_minutes}
        ),
        "running": conn.running_job,
    }
    if request.htmx and request.htmx.target == "available":
        return render(request, "sync/detail_available.html", context)
    return render(request, "sync/detail.html", context)


@sync_permission_required
@require_POST
def connection_check(request, pk: int):
    conn = connection_get(organization=request.organization, pk=pk)
    try:
        result = connection_test(connection=conn)
    except FerryError as exc:
        return render(request, "sync/detail_test.html", {"error": exc.message})
    return render(request, "sync/detail_test.html", {"result": result, "conn": conn})


@sync_permission_required
@require_POST
def connection_settings(request, pk: int):
    conn = connection_get(organization=request.organization, pk=pk)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            connection_update(connection=conn, **form.cleaned_data)
        except FerryError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Sync settings saved.")
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("sync:detail", pk=conn.pk)


@sync_permission_required
@require_POST
def sync_now(request, pk: int):
    conn = connection_get(organization=request.organization, pk=pk)
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to sync.")
        return redirect("sync:detail", pk=conn.pk)
    d = form.cleaned_data
    keys = request.POST.getlist("key") or None
    if d["keys"]:
        keys = [k for k in d["keys"].splitlines() if k.strip()]
    try:
        job = sync_start(
            connection=conn,
            user=request.user,
            direction=d["direction"],
            dry_run=d["dry_run"],
            keys=keys,
        )
    except FerryError as exc:
        messages.error(request, exc.message)
    else:
        what = "Dry run" if d["dry_run"] else "Sync"
        messages.success(
            request, f"{what} queued as job {job.pk}; its log appears below when done."
        )
    if request.POST.get("next") == "dashboard":
        return redirect("sync:dashboard")
    return redirect("sync:detail", pk=conn.pk)


@sync_permission_required
def run_detail(request, pk: int):
    run = run_get(organization=request.organization, pk=pk)
    entries = run.job.log_entries.order_by("pk")[:500] if run.job else []
    return render(request, "sync/run.html", {"run": run, "entries": entries})


def _mapping_context(conn, form: MappingForm, *, error: str = "", preview=None) -> dict:
    return {"conn": conn, "form": form, "error": error, "preview": preview}


@sync_permission_required
def connection_mapping(request, pk: int):
    """The mapping editor: a card on the connection page (htmx) or a page of its own."""
    conn = connection_get(organization=request.organization, pk=pk)
    template = "sync/detail_mapping.html" if request.htmx else "sync/mapping.html"
    try:
        columns = connection_test(connection=conn).columns
    except FerryError as exc:
        return render(request, template, {"conn": conn, "form": None, "error": exc.message})
    form = MappingForm(
        connection=conn, columns=columns, data=request.POST if request.method == "POST" else None
    )
    error = ""
    if request.method == "POST":
        try:
            connection_update(connection=conn, **form.spec())
        except FerryError as exc:
            conn.refresh_from_db()  # the page shows the form as sent, over the saved mapping
            error = exc.message
        else:
            messages.success(request, "Mapping saved; the next sync uses it.")
            url = reverse("sync:detail", kwargs={"pk": conn.pk})
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(request, template, {"conn": conn, "form": form, "error": error})


@sync_permission_required
@require_POST
def connection_mapping_preview_view(request, pk: int):
    """The first rows through the mapping as it stands in the form (not saved)."""
    conn = connection_get(organization=request.organization, pk=pk)
    try:
        columns = connection_test(connection=conn).columns
        form = MappingForm(connection=conn, columns=columns, data=request.POST)
        preview = connection_mapping_preview(connection=conn, spec=form.spec())
    except FerryError as exc:
        return render(request, "sync/detail_mapping_preview.html", {"error": exc.message})
    names = [f.name for f in resource_get("products").importable_fields()]
    shown = [n for n in names if any(n in p["values"] for p in preview)]
    labels = {f.name: f.label for f in resource_get("products").importable_fields()}
    for p in preview:
        p["cells"] = [(n, _cell(p["values"].get(n))) for n in shown]
    return render(
        request,
        "sync/detail_mapping_preview.html",
        {"preview": preview, "labels": [labels[n] for n in shown], "conn": conn},
    )


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, ""))
    return str(value)
