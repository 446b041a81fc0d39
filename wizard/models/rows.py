from __future__ import annotations

from django.db import models

from jobs.models import DataJob


class ImportRow(models.Model):
    """One data row of a previewed import, as the dry run saw it.

    Stored on the draft job so the wizard pages through results without re-reading the file;
    a person's cell fixes live in ``edits`` and are applied by the real run.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        UPDATE = "update", "Update"
        UNCHANGED = "unchanged", "Unchanged"
        INVALID = "invalid", "Invalid"
        # Repeats an earlier row's key: one record with it (same values, or the run's
        # "repeats" setting chose one row's values).
        MERGED = "merged", "Repeat (merged)"

    job = models.ForeignKey(DataJob, on_delete=models.CASCADE, related_name="import_rows")
    row_number = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    # {header: raw value as text}
    values = models.JSONField(default=dict, blank=True)
    # {header: corrected value}
    edits = models.JSONField(default=dict, blank=True)
    # {column: [message, ...]}
    errors = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=dict, blank=True)
    # {field: [old, new]} for rows that update an existing record
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "import row"
        verbose_name_plural = "import rows"
        ordering = ["job", "row_number"]
        indexes = [models.Index(fields=["job", "status", "row_number"])]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="importrow_unique_row")
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number} ({self.status})"

    @property
    def effective_values(self) -> dict[str, str]:
        return {**self.values, **self.edits}
