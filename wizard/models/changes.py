from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import models

from jobs.models import DataJob


class ImportChange(models.Model):
    """What one import run wrote, so the run can be undone.

    ``created``: the records did not exist before; undo deletes them unless edited since
    (their ``updated_at`` is later than the import's end). One row holds all the records one
    batch created: ``ids`` lists their primary keys as inclusive ranges ``[[first, last], ...]``
    (a batch's keys come from one reservation, so mostly one range) and ``object_id`` is the
    first. A row per record cost the database as much again as the import's own inserts (a
    heap row, two index entries and a foreign-key check each). Rows written before ``ids``
    existed have it empty and stand for ``object_id`` alone. ``after`` is left empty for
    created records: ``updated_at`` answers the only question undo asks of them.
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
    ids = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "import change"
        verbose_name_plural = "import changes"
        ordering = ["job", "pk"]
        indexes = [models.Index(fields=["job", "resource", "action"])]

    def __str__(self) -> str:
        if self.ids:
            return f"{self.action} {self.resource} ×{ids_count(self.ids)} from #{self.object_id}"
        return f"{self.action} {self.resource} #{self.object_id}"

    def object_ids(self) -> list[int]:
        """The primary keys this change is about, ascending."""
        return ids_expand(self.ids) if self.ids else [self.object_id]


def ids_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Primary keys as inclusive ``[first, last]`` ranges, ascending."""
    out: list[list[int]] = []
    for pk in sorted(ids):
        if out and pk <= out[-1][1] + 1:
            if pk > out[-1][1]:
                out[-1][1] = pk
        else:
            out.append([pk, pk])
    return out


def ids_expand(ranges: Iterable[Sequence[int]]) -> list[int]:
    out: list[int] = []
    for first, last in ranges:
        out.extend(range(first, last + 1))
    return out


def ids_count(ranges: Iterable[Sequence[int]]) -> int:
    return sum(last - first + 1 for first, last in ranges)
