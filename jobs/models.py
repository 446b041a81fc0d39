from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import Organization


def job_file_path(instance: DataJob, filename: str) -> str:
    # Files live under the organization and job; never served by a public URL.
    return f"jobs/{instance.organization_id}/{instance.pk or 'new'}/{filename}"


def target_display(target: str, label: str = "") -> str:
    """A job's target as people call it; jobs created before labels were stored get words."""
    return label or capfirst(target.replace("-", " ").replace("_", " "))


@dataclass(frozen=True)
class Outcome:
    """A job's status as a person reads it: the words and the badge colour (a CSS class)."""

    label: str
    tone: str


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

    class OnStall(models.TextChoices):
        """What the stalled-jobs task does with the job when its worker dies."""

        RERUN = "rerun", "Run again from the start"
        RESUME = "resume", "Resume from the last committed batch"
        FAIL = "fail", "Mark failed"

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
    # The target as people call it ("Inventory valuation"), set by the service creating the job:
    # jobs knows nothing of resources or reports, so it cannot look it up.
    target_label = models.CharField(max_length=100, blank=True)
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
    # Enough to queue the task again when the worker running it died.
    task_name = models.CharField(max_length=200, blank=True)
    task_kwargs = models.JSONField(default=dict, blank=True)
    on_stall = models.CharField(max_length=10, choices=OnStall.choices, default=OnStall.RERUN)
    # Each start is a new attempt; heartbeats and checkpoints only count for the current one,
    # so a worker thought dead that wakes up cannot overwrite the run that replaced it.
    attempt = models.PositiveIntegerField(default=0)
    # The worker process running the attempt ("host:pid"), for the job page and the log.
    worker = models.CharField(max_length=200, blank=True)
    # What a resumable run has committed: rows of the file consumed, counts so far (saved in
    # the same transaction as each batch, so it never claims more than the database holds).
    checkpoint = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # A message safe to show a person when the job failed (details only in the server log).
    error_message = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "job"
        verbose_name_plural = "jobs"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "status", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_job_type_display()} {self.target}"

    @property
    def target_display(self) -> str:
        return target_display(self.target, self.target_label)

    @property
    def outcome(self) -> Outcome:
        """How the job ended, told honestly: a run where every row failed is no success."""
        Status = self.Status
        if self.status == Status.COMPLETED:
            if not self.failed:
                return Outcome("Completed", "completed")
            rows = f"{self.failed:,} failed row{'s' if self.failed != 1 else ''}"
            if not self.succeeded and not self.skipped:
                return Outcome(f"All rows failed ({self.failed:,})", "failed")
            return Outcome(f"Completed with {rows}", "warning")
        if self.status == Status.FAILED:
            if isinstance(self.summary, dict) and self.summary.get("rolled_back"):
                return Outcome("Rolled back", "failed")
            return Outcome("Failed", "failed")
        return Outcome(self.get_status_display(), self.status)

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
        seconds = settings.FERRY["JOB_STALLED_AFTER_SECONDS"]
        if timezone.now() - last <= timedelta(seconds=seconds):
            return False
        from jobs.heartbeat import side_alive  # it imports this module

        return not side_alive([self.pk], limit=seconds)

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
    # What kind of problem ("required", "not_a_date", "missing_reference", ...), set by the
    # import engine; null for entries written before it named them (read from the message).
    kind = models.CharField(max_length=40, null=True, blank=True)

    class Meta:
        verbose_name = "job log entry"
        verbose_name_plural = "job log entries"
        ordering = ["job", "row_number", "pk"]
        indexes = [models.Index(fields=["job", "level", "row_number"])]

    def __str__(self) -> str:
        where = f"Row {self.row_number}" if self.row_number is not None else "File"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class WorkerHeartbeat(models.Model):
    """A worker process that reported recently: how pages tell whether any worker is alive."""

    name = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "worker heartbeats"
        ordering = ["-seen_at"]
        verbose_name = "worker heartbeat"

    def __str__(self) -> str:
        return self.name
