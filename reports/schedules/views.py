"""Schedule pages: list, form, detail with history, run detail, downloads, notification settings.

Thin views: a form validates, one service call, a redirect or a partial (htmx requests get the
fragment named ``<page>_<fragment>.html``).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.decorators import organization_required
from accounts.permissions import MANAGE_SCHEDULES
from jobs.errors import FerryError
from reports.schedules import recurrence
from reports.schedules import selectors as sel
from reports.schedules import services as svc
from reports.schedules.delivery import LinkRefused, file_link_resolve
from reports.schedules.exporters import target_get, targets_for
from reports.schedules.forms import (
    PARAM_PREFIX,
    HistoryFilterForm,
    NotificationSettingsForm,
    ScheduleForm,
    schedule_initial,
)

# Times shown in the schedule's own zone (Django's date filter would convert to the viewer's).
LOCAL_FORMAT = "%a %Y-%m-%d %H:%M %Z"


def _require(request) -> None:
    if not request.membership.has_perm(MANAGE_SCHEDULES):
        raise PermissionDenied(
            f"You do not have the permission to manage schedules ({MANAGE_SCHEDULES})."
        )


@require_GET
@organization_required
def schedule_list(request):
    _require(request)
    state = request.GET.get("state", "")
    active = {"active": True, "paused": False}.get(state)
    schedules = sel.schedules_list(
        organization=request.organization, active=active, search=request.GET.get("q", "").strip()
    )
    context = {
        "schedules": schedules,
        "state": state,
        "q": request.GET.get("q", ""),
        "overdue": sel.schedules_overdue(organization=request.organization),
        "upcoming": sel.schedules_upcoming(organization=request.organization)[:5],
        "stats": sel.schedule_statistics(organization=request.organization),
    }
    template = (
        "reports/schedules/list_table.html" if request.htmx else "reports/schedules/list.html"
    )
    return render(request, template, context)


def _params_form(request, *, identifier: str, data=None, initial=None):
    """The exporter's own parameter form (report filters), or None (record exports use JSON)."""
    try:
        target = target_get(organization=request.organization, identifier=identifier)
    except FerryError:
        return None
    if target.template is not None or getattr(target.exporter, "form_class", None) is None:
        return None
    form = target.exporter.form(organization=request.organization, data=data, initial=initial)
    form.prefix = PARAM_PREFIX
    return form


def _param_values(form) -> dict:
    """Posted values of the exporter's form, as the service's params (validated there)."""
    if form is None:
        return {}
    out = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if hasattr(field, "choices") and getattr(field.widget, "allow_multiple_selected", False):
            values = form.data.getlist(key)
            if values:
                out[name] = values
        elif form.data.get(key) not in (None, ""):
            out[name] = form.data.get(key)
    return out


@require_http_methods(["GET", "POST"])
@organization_required
def schedule_edit(request, pk: int | None = None):
    _require(request)
    schedule = sel.schedule_get(organization=request.organization, pk=pk) if pk else None
    targets = targets_for(membership=request.membership)
    if request.method == "POST":
        form = ScheduleForm(request.POST, targets=targets)
        params_form = _params_form(
            request, identifier=request.POST.get("exporter", ""), data=request.POST
        )
        if form.is_valid():
            data = form.service_data(params=_param_values(params_form))
            try:
                if schedule is None:
                    schedule = svc.schedule_create(
                        organization=request.organization,
                        user=request.user,
                        data=data,
                        request=request,
                    )
                else:
                    svc.schedule_update(
                        schedule=schedule, user=request.user, data=data, request=request
                    )
            except svc.ScheduleInvalid as exc:
                form.add_service_errors(exc.errors)
                if params_form is not None:
                    params_form.is_valid()
            else:
                messages.success(request, f"Schedule “{schedule.name}” saved.")
                return redirect("reports:schedule_detail", pk=schedule.pk)
    else:
        if schedule is not None:
            initial = schedule_initial(schedule)
        else:
            notify = svc.notification_settings_get(organization=request.organization)
            initial = {
                "timezone": timezone.get_current_timezone_name(),
                "run_time": "07:00",
                "frequency": "weekly",
                "formats": ["xlsx"],
                "recipients": ", ".join(notify.default_recipients),
                "exporter": request.GET.get("exporter", ""),
            }
        form = ScheduleForm(initial=initial, targets=targets)
        identifier = initial.get("exporter", "")
        params_form = _params_form(
            request,
            identifier=identifier,
            initial=(schedule.params if schedule is not None else None),
        )
    context = {
        "form": form,
        "params_form": params_form,
        "show_json": _wants_json(
            request, identifier=form["exporter"].value() or "", params_form=params_form
        ),
        "schedule": schedule,
        "zones": recurrence.zone_choices(),
    }
    return render(request, "reports/schedules/form.html", context)


@require_GET
@organization_required
def schedule_form_params(request):
    """htmx: the chosen exporter's parameter fields."""
    _require(request)
    identifier = request.GET.get("exporter", "")
    params_form = _params_form(request, identifier=identifier)
    context = {
        "params_form": params_form,
        "form": ScheduleForm(targets=[]),
        "show_json": _wants_json(request, identifier=identifier, params_form=params_form),
    }
    return render(request, "reports/schedules/form_params.html", context)


def _wants_json(request, *, identifier: str, params_form) -> bool:
    """Record exports take filters and columns as JSON; reports have their own form, and a
    saved template brings its own filters."""
    if params_form is not None or not identifier:
        return False
    try:
        target = target_get(organization=request.organization, identifier=identifier)
    except FerryError:
        return False
    return target.template is None


@require_GET
@organization_required
def schedule_form_recurrence(request):
    """htmx: the recurrence in words and the next runs, as the form is filled in."""
    _require(request)
    form = ScheduleForm(request.GET, targets=[])
    summary, upcoming, error = "", [], ""
    form.is_valid()
    data = form.cleaned_data
    try:
        zone = recurrence.zone_get(request.GET.get("timezone", ""))
        if not data.get("run_time"):
            raise recurrence.InvalidRecurrence("Give the time of day, e.g. 07:00.")
        rule = recurrence.rule_build(
            frequency=data.get("frequency") or "",
            run_time=data["run_time"],
            weekdays=data.get("weekdays"),
            monthly_mode=data.get("monthly_mode") or "day",
            month_day=data.get("month_day"),
            nth=int(data["nth"]) if data.get("nth") else None,
            nth_weekday=data.get("nth_weekday"),
            custom=data.get("rrule") or "",
        )
        summary = recurrence.rule_describe(rule=rule, tz=zone.key)
        upcoming = [
            u.astimezone(zone).strftime(LOCAL_FORMAT)
            for u in recurrence.upcoming(rule=rule, tz=zone.key, after=timezone.now(), count=3)
        ]
    except FerryError as exc:
        error = exc.message
    return render(
        request,
        "reports/schedules/form_recurrence.html",
        {"summary": summary, "upcoming": upcoming, "error": error},
    )


@require_GET
@organization_required
def schedule_detail(request, pk: int):
    _require(request)
    schedule = sel.schedule_get(organization=request.organization, pk=pk)
    filters = HistoryFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    runs = sel.runs_list(
        organization=request.organization,
        schedule=schedule,
        status=cleaned.get("status") or "",
        since=cleaned.get("since"),
        until=cleaned.get("until"),
    )[:100]
    context = {
        "schedule": schedule,
        "runs": runs,
        "filters": filters,
        "summary": recurrence.rule_describe(rule=schedule.rrule, tz=schedule.timezone),
        "stats": sel.schedule_statistics(organization=request.organization, schedule=schedule),
        "upcoming": [
            u.astimezone(recurrence.zone_get(schedule.timezone)).strftime(LOCAL_FORMAT)
            for u in recurrence.upcoming(
                rule=schedule.rrule, tz=schedule.timezone, after=timezone.now(), count=5
            )
        ]
        if schedule.is_active
        else [],
        "target_name": _target_name(request, schedule),
    }
    if request.htmx and request.htmx.target == "history":
        return render(request, "reports/schedules/detail_history.html", context)
    return render(request, "reports/schedules/detail.html", context)


def _target_name(request, schedule) -> str:
    try:
        return target_get(organization=request.organization, identifier=schedule.exporter).name
    except FerryError:
        return f"{schedule.exporter} (no longer available)"


@require_POST
@organization_required
def schedule_action(request, pk: int, action: str):
    _require(request)
    schedule = sel.schedule_get(organization=request.organization, pk=pk)
    if action == "run":
        run = svc.schedule_trigger(schedule=schedule, user=request.user, request=request)
        messages.success(request, "The schedule is running now; the result appears below.")
        return redirect("reports:schedule_run", pk=schedule.pk, run=run.pk)
    if action == "pause":
        svc.schedule_pause(schedule=schedule, user=request.user, request=request)
        messages.success(request, f"“{schedule.name}” is paused.")
    elif action == "activate":
        svc.schedule_activate(schedule=schedule, user=request.user, request=request)
        messages.success(request, f"“{schedule.name}” is active again.")
    elif action == "duplicate":
        copy = svc.schedule_duplicate(schedule=schedule, user=request.user, request=request)
        messages.success(request, f"Duplicated as “{copy.name}”.")
        return redirect("reports:schedule_detail", pk=copy.pk)
    elif action == "delete":
        name = schedule.name
        svc.schedule_delete(schedule=schedule, user=request.user, request=request)
        messages.success(request, f"“{name}” and its files were deleted.")
        return redirect("reports:schedules")
    else:
        raise Http404("Unknown action.")
    return redirect("reports:schedule_detail", pk=schedule.pk)


@require_GET
@organization_required
def schedule_run(request, pk: int, run: int):
    _require(request)
    schedule = sel.schedule_get(organization=request.organization, pk=pk)
    run_obj = sel.run_get(organization=request.organization, pk=run, schedule=schedule)
    context = {"schedule": schedule, "run": run_obj}
    if request.htmx:
        if run_obj.is_settled:
            return HttpResponseStopPolling(
                render_to_string("reports/schedules/run_status.html", context, request)
            )
        return render(request, "reports/schedules/run_status.html", context)
    return render(request, "reports/schedules/run.html", context)


@require_GET
@organization_required
def schedule_file_download(request, file: int):
    _require(request)
    found = sel.run_file_get(organization=request.organization, pk=file)
    if not found.available:
        raise Http404("This file is no longer kept (retention period over).")
    try:
        target = target_get(
            organization=request.organization, identifier=found.run.schedule.exporter
        )
    except FerryError:
        target = None  # the exporter is gone; schedule managers still reach the kept file
    if target is not None:
        # The file's own gate too: a PDF needs the PDF permission (a 403 otherwise).
        target.exporter.permission_check(membership=request.membership, format=found.format)
    return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.filename)


@require_GET
def schedule_file_link(request, token: str):
    """A signed, expiring link from an e-mail: no login, only this one file."""
    try:
        found = file_link_resolve(token=token)
    except LinkRefused as exc:
        return HttpResponse(exc.message, status=410, content_type="text/plain; charset=utf-8")
    return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.filename)


@require_http_methods(["GET", "POST"])
@organization_required
def notification_settings(request):
    _require(request)
    current = svc.notification_settings_get(organization=request.organization)
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            try:
                svc.notification_settings_update(
                    organization=request.organization,
                    user=request.user,
                    data=form.cleaned_data,
                    request=request,
                )
            except svc.ScheduleInvalid as exc:
                for field, msgs in exc.errors.items():
                    for m in msgs:
                        form.add_error(field if field in form.fields else None, m)
            else:
                messages.success(request, "Notification settings saved.")
                return redirect("reports:schedule_notifications")
    else:
        form = NotificationSettingsForm(
            initial={
                "notify_on": current.notify_on,
                "default_recipients": ", ".join(current.default_recipients),
                "from_name": current.from_name,
                "reply_to": current.reply_to,
                "retention_days": current.retention_days,
                "weekly_summary": current.weekly_summary,
            }
        )
    return render(request, "reports/schedules/notifications.html", {"form": form})
