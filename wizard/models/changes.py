from __future__ import annotations

from django.db import models

from jobs.models import DataJob


class ImportChange(models.Model):
    """What one import run wrote, so the run can be undone.

    ``created``: the record did not exist before; undo deletes it unless it was edited since
    (its ``updated_at`` is later than the import's end). ``after`` is left empty for created
    records: storing every written value twice would double the cost of large imports, and
    ``updated_at`` answers the only question undo asks of them.
    ``updated``: ``before`` holds the old values of the changed fields and ``after`` the values
    written; undo restores ``before`` only where the record still holds ``after``.
    Values are stored by model attribute name (``account_id`` for a reference).
    """

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"

    job = models.ForeignKey(DataJob, on_delete=models.CASCADE, related_name="import_changes")
    resource = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "import change"
        verbose_name_plural = "import changes"
        ordering = ["job", "pk"]
        indexes = [models.Index(fields=["job", "resource", "action"])]

    def __str__(self) -> str:
        return f"{self.action} {self.resource} #{self.object_id}"
