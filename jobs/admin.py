"""Django admin for jobs: for looking into a job, not for editing one.

Counts, timestamps and files are written by the lifecycle services only; editing them by hand
would make the job's history lie, so nearly everything is read-only here.
"""

from django.contrib import admin

from accounts.admin_site import OrgScopedAdmin, OrgScopedInlineMixin
from jobs.models import DataJob, JobLogEntry, WorkerHeartbeat


class JobLogEntryInline(OrgScopedInlineMixin, admin.TabularInline):
    model = JobLogEntry
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("row_number", "level", "column", "value", "message")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        # A big import can log many thousands of rows; the job page has the paginated log.
        qs = super().get_queryset(request)
        ids = list(qs.values_list("pk", flat=True)[:100])
        return qs.filter(pk__in=ids)


@admin.register(DataJob)
class DataJobAdmin(OrgScopedAdmin):
    list_display = (
        "id",
        "organization",
        "job_type",
        "target",
        "format",
        "status",
        "processed",
        "total",
        "failed",
        "user",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "job_type", "organization", "format", "created_at")
    search_fields = ("target", "user__username", "error_message", "task_id")
    list_select_related = ("organization", "user")
    date_hierarchy = "created_at"
    inlines = [JobLogEntryInline]
    readonly_fields = [f.name for f in DataJob._meta.get_fields() if f.concrete and f.name != "id"]
    fieldsets = (
        (None, {"fields": ("organization", "user", "job_type", "target", "format", "status")}),
        ("Counts", {"fields": ("total", "processed", "succeeded", "failed", "skipped")}),
        (
            "Timings",
            {"fields": ("created_at", "queued_at", "started_at", "finished_at", "heartbeat_at")},
        ),
        (
            "Files",
            {"fields": ("input_file", "input_filename", "output_file", "output_filename")},
        ),
        (
            "Details",
            {"fields": ("params", "summary", "error_message", "task_id", "cancel_requested")},
        ),
    )

    def has_add_permission(self, request):
        return False


@admin.register(JobLogEntry)
class JobLogEntryAdmin(OrgScopedAdmin):
    list_display = ("job", "row_number", "level", "column", "message")
    list_filter = ("level", "job__job_type", "job__organization")
    search_fields = ("message", "column", "value")
    list_select_related = ("job",)
    organization_lookup = "job__organization"
    raw_id_fields = ("job",)
    readonly_fields = ("job", "row_number", "column", "value", "message", "level")

    def has_add_permission(self, request):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """Read-only: each worker process writes its own row (jobs/heartbeat.py)."""

    list_display = ("name", "started_at", "seen_at")
    ordering = ("-seen_at",)
    readonly_fields = ("name", "hostname", "pid", "started_at", "seen_at")

    def has_add_permission(self, request) -> bool:
        return False
