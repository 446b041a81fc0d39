from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization


def job_file_path(instance: DataJob, filename: str) -> str:
    # Files live under the organization and job; never served by a public URL.
    return f"jobs/{instance.organization_id}/{instance.pk or 'new'}/{filename}"


class DataJob(models.Model):
    class Type(models.TextChoices):
        IMPORT = "import", "Import"
        EXPORT = "export", "Export"
        REPORT = "report", "Report"
        # Housekeeping jobs such as the worker check: no business data involved.
        SYSTEM = "system", "System"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.PENDING, Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="jobs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_type = models.CharField("type", max_length=10, choices=Type.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # What the job works on: a resource name ("contacts") or a report identifier ("sales").
    target = models.CharField(max_length=64)
    format = models.CharField(max_length=10, blank=True)
    params = models.JSONField(default=dict, blank=True)
    input_file = models.FileField(upload_to=job_file_path, max_length=500, blank=True)
    input_filename = models.CharField(max_length=255, blank=True)
    output_file = models.FileField(upload_to=job_file_path, max_length=500, blank=True)
    output_filename = models.CharField(max_length=255, blank=True)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    processed = models.PositiveBigIntegerField(default=0)
    succeeded = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    skipped = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # A message safe to show a person when the job failed (details only in the server log).
    error_message = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "status", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_job_type_display()} {self.target}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.status == self.Status.COMPLETED:
            return 100
        if not self.total:
            return 0
        return max(0, min(100, int(self.processed * 100 / self.total)))

    @property
    def is_stalled(self) -> bool:
        """Running, but the worker has not reported for longer than the configured time."""
        if self.status != self.Status.RUNNING:
            return False
        last = self.heartbeat_at or self.started_at or self.created_at
        limit = timedelta(seconds=settings.FERRY["JOB_STALLED_AFTER_SECONDS"])
        return timezone.now() - last > limit

    @property
    def duration(self) -> timedelta | None:
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def rate(self) -> float | None:
        """Rows per second so far."""
        duration = self.duration
        if not duration or duration.total_seconds() <= 0 or not self.processed:
            return None
        return self.processed / duration.total_seconds()

    @property
    def seconds_left(self) -> float | None:
        rate = self.rate
        if not rate or not self.total or self.status != self.Status.RUNNING:
            return None
        return max(0.0, (self.total - self.processed) / rate)


class JobLogEntry(models.Model):
    """One row-level problem or note: row number in the file, column, value, message."""

    class Level(models.TextChoices):
        ERROR = "error", "Error"
        WARNING = "warning", "Warning"
        INFO = "info", "Info"

    job = models.ForeignKey(DataJob, on_delete=models.CASCADE, related_name="log_entries")
    row_number = models.PositiveBigIntegerField(null=True, blank=True)
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    message = models.TextField()
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.ERROR)

    class Meta:
        ordering = ["job", "row_number", "pk"]
        indexes = [models.Index(fields=["job", "level", "row_number"])]

    def __str__(self) -> str:
        where = f"Row {self.row_number}" if self.row_number is not None else "File"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"
