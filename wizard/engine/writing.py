"""Bulk writes of one batch and the change log that makes an import undoable (see undo.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState

from jobs.bulk import Staged, fast_writer_enabled, inserter_for
from wizard.models import ImportChange
from wizard.models.changes import ids_ranges

CHANGE_BATCH = 2000


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def relaxed_commits() -> None:
    """PostgreSQL: the batch's commit need not wait for its WAL flush.

    A crash could lose the last fraction of a second of committed batches, never a part of
    one (data and change log commit together, so undo stays exact); in exchange each batch
    stops paying a disk flush. Only for skip-invalid runs, whose batches stand alone anyway.
    The writer process's connection is the run's alone: it says so once, for every commit
    (``RELAXED_COMMITS``, wizard/engine/pipeline.py), a statement a batch fewer.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(RELAXED_COMMITS.replace("SET ", "SET LOCAL ", 1))


RELAXED_COMMITS = "SET synchronous_commit TO OFF"


class InstanceFactory:
    """Builds unsaved model instances fast.

    ``Model(**kwargs)`` walks every field and descriptor for each row, which dominates a bulk
    import's profile; bulk_create only reads attributes by ``attname``, so instances are made
    from one prototype's attribute dictionary and the row's values.
    """

    def __init__(
        self, model: type[models.Model], *, organization_id: int, defaults: dict[str, Any]
    ):
        self.model = model
        proto = model(organization_id=organization_id)
        base = {k: v for k, v in proto.__dict__.items() if k != "_state"}
        for attname, value in defaults.items():
            base[attname] = value
        self.base = base

    def insert(
        self, rows: Sequence[dict[str, Any]], *, now, staged: Staged | None = None
    ) -> list[int]:
        """Insert new records from attribute values; returns their primary keys in order.
        ``staged``: what ``stage`` made of the same rows."""
        if not rows:
            return []
        if fast_writer_enabled():
            return inserter_for(self.model).insert(rows, now=now, defaults=self.base, staged=staged)
        objs = [self.make(r) for r in rows]
        self.model._base_manager.bulk_create(objs, batch_size=1000)
        return [o.pk for o in objs]

    def stage(self, rows: Sequence[dict[str, Any]], *, now) -> Staged | None:
        """On PostgreSQL with the fast writer: the rows made ready for ``insert`` ahead of
        the write (``TableInserter.stage``); else None (``insert`` does it all)."""
        if not rows or not fast_writer_enabled() or connection.vendor != "postgresql":
            return None
        return inserter_for(self.model).stage(rows, now=now, defaults=self.base)

    def make(self, values: dict[str, Any]) -> models.Model:
        obj = self.model.__new__(self.model)
        d = obj.__dict__
        d.update(self.base)
        d.update(values)
        obj._state = ModelState()
        return obj


def changes_record(
    *,
    job_id: int,
    resource: str,
    created: Iterable[int] = (),
    updated: Iterable[tuple[int, dict, dict]] = (),
) -> None:
    """Note what one batch wrote, for undo: the records it created as one row (their keys as
    ranges, see ``ImportChange``), each record it updated as a row with its old and new values."""
    created = list(created)
    if created:
        ranges = ids_ranges(created)
        row = {
            "job_id": job_id,
            "resource": resource,
            "object_id": ranges[0][0],
            "action": ImportChange.Action.CREATED,
            "ids": ranges,
        }
        if fast_writer_enabled():
            inserter_for(ImportChange).insert([row], now=None, keys=False)
        else:
            ImportChange.objects.create(**row)
    updated_rows = [
        {
            "job_id": job_id,
            "resource": resource,
            "object_id": pk,
            "action": "updated",
            "before": before,
            "after": after,
        }
        for pk, before, after in updated
    ]
    if not updated_rows:
        return
    if fast_writer_enabled():
        inserter_for(ImportChange).insert(updated_rows, now=None, keys=False)
    else:
        ImportChange.objects.bulk_create(
            [ImportChange(**r) for r in updated_rows], batch_size=CHANGE_BATCH
        )


def bulk_update_changed(
    model: type[models.Model], objs: Sequence[models.Model], fields: set[str]
) -> None:
    """Write each object's changed fields (``_ferry_changed``) and ``updated_at``.

    Objects are grouped by the set of changed fields, so unchanged columns are not rewritten.
    """
    groups: dict[tuple[str, ...], list] = {}
    for obj in objs:
        groups.setdefault(tuple(sorted(obj._ferry_changed)), []).append(obj)
    fast = fast_writer_enabled()
    for names, group in groups.items():
        if fast:
            inserter_for(model).update(group, [*names, "updated_at"])
        else:
            model._base_manager.bulk_update(group, [*names, "updated_at"], batch_size=500)
