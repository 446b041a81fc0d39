"""Schedules, their runs (the history) and each organization's notification settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now as time_now

from accounts.models import Organization


class Schedule(models.Model):
    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        CUSTOM = "custom", "Custom rule (RFC 5545)"

    class Period(models.TextChoices):
        NONE = "", "As set in the parameters"
        YESTERDAY = "yesterday", "Yesterday"
        LAST_WEEK = "last_week", "Last week (Monday to Sunday)"
        LAST_MONTH = "last_month", "Last month"
        MONTH_TO_DATE = "month_to_date", "Month to date"
        # Forward-looking: "the picking lists of tomorrow's orders", sent the evening before.
        TODAY = "today", "Today"
        TOMORROW = "tomorrow", "Tomorrow"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # A deleted user leaves the schedule ownerless: its next run fails with a clear reason.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="report_schedules",
    )
    name = models.CharField(max_length=120)
    # The exporter's identifier (a ready-made report such as "sales", a resource such as
    # "contacts", or "template:<id>" for a saved export template) and its parameters.
    exporter = models.CharField(max_length=80)
    params = models.JSONField(default=dict, blank=True)
    period = models.CharField(max_length=20, choices=Period.choices, blank=True, default="")
    formats = models.JSONField(default=list)
    # The recurrence: an RFC 5545 RRULE (time of day included as BYHOUR/BYMINUTE), expanded in
    # the schedule's own IANA time zone; ``frequency`` only remembers which form built it.
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    rrule = models.CharField(max_length=500)
    run_time = models.TimeField()
    timezone = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    paused_reason = models.CharField(max_length=500, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    only_when_rows = models.BooleanField(default=False)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=time_now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "schedule"
        verbose_name_plural = "schedules"
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["is_active", "next_run_at"])]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="schedule_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        EMAILED = "emailed", "E-mailed"
        FAILED = "failed", "Failed"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # The slot this run is for (UTC); manual runs use the moment they were asked for.
    slot = models.DateTimeField()
    manual = models.BooleanField(default=False)
    late = models.BooleanField(default=False)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey(
        "jobs.DataJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=time_now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    period_text = models.CharField(max_length=200, blank=True)
    rows = models.PositiveBigIntegerField(null=True, blank=True)
    key_figures = models.JSONField(default=list, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    # Attempts at producing the files (an unexpected error is retried) and at sending them.
    attempts = models.PositiveSmallIntegerField(default=1)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    # What happened to the e-mail when none went out on purpose ("no rows") or a retry waits.
    note = models.CharField(max_length=300, blank=True)
    # Safe to show; details only in the server log.
    error_message = models.TextField(blank=True)

    class Meta:
        verbose_name = "schedule run"
        verbose_name_plural = "schedule runs"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The database-level half of "each slot runs exactly once".
            models.UniqueConstraint(fields=["schedule", "slot"], name="schedule_run_unique_slot")
        ]
        indexes = [models.Index(fields=["organization", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.schedule} @ {self.slot:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        if not self.started_at or not self.finished_at:
            return None
        return self.finished_at - self.started_at

    @property
    def is_settled(self) -> bool:
        """Nothing more will happen: e-mailed, failed, or completed without a mail to send
        (completed with delivery attempts means another e-mail try is scheduled)."""
        if self.status in (self.Status.EMAILED, self.Status.FAILED):
            return True
        return self.status == self.Status.COMPLETED and self.delivery_attempts == 0

    @property
    def is_success(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.EMAILED)


def run_file_path(instance: ScheduleRunFile, filename: str) -> str:
    run = instance.run
    return f"schedules/{run.organization_id}/{run.schedule_id}/{run.pk}/{filename}"


class ScheduleRunFile(models.Model):
    run = models.ForeignKey(ScheduleRun, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(max_length=10)
    file = models.FileField(upload_to=run_file_path, max_length=500, blank=True)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    # Sent as a signed link instead of an attachment (larger than the attachment limit).
    linked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=time_now)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "schedule run file"
        verbose_name_plural = "schedule run files"
        ordering = ["run", "pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def available(self) -> bool:
        return bool(self.file) and self.purged_at is None


class NotificationSettings(models.Model):
    class NotifyOn(models.TextChoices):
        NONE = "none", "Never"
        SUCCESS = "success", "On success"
        FAILURE = "failure", "On failure"
        BOTH = "both", "On success and on failure"

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="schedule_notifications"
    )
    notify_on = models.CharField(max_length=10, choices=NotifyOn.choices, default=NotifyOn.FAILURE)
    # Told about successes/failures besides the schedule's owner; offered on new schedules.
    default_recipients = models.JSONField(default=list, blank=True)
    from_name = models.CharField(max_length=100, blank=True)
    reply_to = models.EmailField(blank=True)
    retention_days = models.PositiveIntegerField(default=30)
    weekly_summary = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "notification settings"
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Schedule notifications of {self.organization}"
