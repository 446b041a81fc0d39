"""External inventory databases an organization syncs with, what links them to Ferry, and the log.

A connection reads one table of an external database (SQLite file under FERRY_SYNC_ROOT, or a
PostgreSQL/MySQL URL the operator allows). Each external row Ferry has imported gets a link:
its key, the Ferry product, and a hash of the values last read, so the next sync knows what
changed on either side. Every run, dry or not, leaves a SyncRun with its counts; its row-level
messages are the job's row log.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Organization

INTERVAL_MIN, INTERVAL_MAX, INTERVAL_DEFAULT = 1, 10_080, 1_440


def default_sold_statuses() -> list[list[str]]:
    # Ferry state → external status; the last matching entry wins (delivered after invoiced).
    return [["invoiced", "Sold"], ["delivered", "Delivered"]]


def default_writeback() -> dict[str, str]:
    # Ferry's write-back value → the external column it goes to ("" leaves it out).
    return {"status": "status", "last_date": "last_date", "username": "username", "logs": "logs"}


class SyncConnection(models.Model):
    class Kind(models.TextChoices):
        SQLITE = "sqlite", "SQLite file"
        URL = "url", "Database URL"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sync_connections"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SQLITE)
    # SQLite: relative to FERRY_SYNC_ROOT (never an absolute path outside it).
    path = models.CharField(max_length=500, blank=True)
    url = models.CharField("URL", max_length=500, blank=True)
    table = models.CharField(max_length=128)
    key_column = models.CharField(max_length=128)
    # What counts as available: column = value (blank column: every row).
    filter_column = models.CharField(max_length=128, blank=True, default="status")
    filter_value = models.CharField(max_length=200, blank=True, default="In-stock")
    # External column → products field; engine options by field (constants, joins, value maps,
    # date formats); per-column transforms applied before the engine (multiply).
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    transforms = models.JSONField(default=dict, blank=True)
    # Stock: {"quantity": column, "warehouse": column, "location": column}.
    stock = models.JSONField(default=dict, blank=True)
    sold_statuses = models.JSONField(default=default_sold_statuses, blank=True)
    writeback = models.JSONField(default=default_writeback, blank=True)
    writeback_username = models.CharField(max_length=100, default="ferry")
    auto_sync = models.BooleanField(default=False)
    interval_minutes = models.PositiveIntegerField(
        default=INTERVAL_DEFAULT,
        validators=[MinValueValidator(INTERVAL_MIN), MaxValueValidator(INTERVAL_MAX)],
    )
    last_sync_at = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    # The job holding this connection: set by one conditional UPDATE, so two workers can never
    # run a sync of the same connection at once.
    running_job = models.ForeignKey(
        "jobs.DataJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "sync connection"
        verbose_name_plural = "sync connections"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="sync_connection_name"),
            models.CheckConstraint(
                condition=models.Q(interval_minutes__gte=INTERVAL_MIN)
                & models.Q(interval_minutes__lte=INTERVAL_MAX),
                name="sync_connection_interval",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def source_label(self) -> str:
        if self.kind == self.Kind.SQLITE:
            return self.path
        from sync.external import url_display

        return url_display(self.url)

    def next_due(self, now=None) -> timezone.datetime | None:
        if not self.auto_sync:
            return None
        if self.last_sync_at is None:
            return now or timezone.now()
        return self.last_sync_at + timedelta(minutes=self.interval_minutes)


class SyncLink(models.Model):
    class State(models.TextChoices):
        LINKED = "linked", "Linked"
        SOLD = "sold", "Written back"
        GONE = "gone", "No longer available"

    connection = models.ForeignKey(SyncConnection, on_delete=models.CASCADE, related_name="links")
    external_key = models.CharField(max_length=200)
    product = models.ForeignKey(
        "business.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    values_hash = models.CharField(max_length=64)
    values = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.LINKED)
    # What Ferry wrote back (e.g. "Sold"), empty until then.
    written_status = models.CharField(max_length=100, blank=True)
    last_synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "sync link"
        verbose_name_plural = "sync links"
        ordering = ["external_key"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_key"], name="sync_link_key")
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.external_key}"


class SyncRun(models.Model):
    class Direction(models.TextChoices):
        BOTH = "both", "Import and write-back"
        IMPORT = "import", "Import only"
        EXPORT = "export", "Write-back only"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(SyncConnection, on_delete=models.CASCADE, related_name="runs")
    job = models.ForeignKey(
        "jobs.DataJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(max_length=10, choices=Direction.choices, default="both")
    dry_run = models.BooleanField(default=False)
    automatic = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    written_back = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    # What would happen / happened, by external key: {"import": [...], "update": [...], ...}.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "sync run"
        verbose_name_plural = "sync runs"
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["organization", "connection", "started_at"])]

    def __str__(self) -> str:
        return f"sync {self.pk} of {self.connection_id}"

    @property
    def duration(self) -> timedelta | None:
        return (self.finished_at - self.started_at) if self.finished_at else None
