"""Bulk writes of one batch, the change log that makes an import undoable, and undo itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.models.base import ModelState
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from business.bulk import fast_writer_enabled, inserter_for
from business.resources import resource_get
from wizard.models import ImportChange

CHANGE_BATCH = 2000


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


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

    def insert(self, rows: Sequence[dict[str, Any]], *, now) -> list[int]:
        """Insert new records from attribute values; returns their primary keys in order."""
        if not rows:
            return []
        if fast_writer_enabled():
            return inserter_for(self.model).insert(rows, now=now, defaults=self.base)
        objs = [self.make(r) for r in rows]
        self.model._base_manager.bulk_create(objs, batch_size=1000)
        return [o.pk for o in objs]

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
    created_rows = [
        {"job_id": job_id, "resource": resource, "object_id": pk, "action": "created"}
        for pk in created
    ]
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
    rows = created_rows + updated_rows
    if not rows:
        return
    if fast_writer_enabled():
        if created_rows:
            created_many(
                job_id=job_id, resource=resource, ids=[r["object_id"] for r in created_rows]
            )
        inserter_for(ImportChange).insert(updated_rows, now=None)
    else:
        ImportChange.objects.bulk_create([ImportChange(**r) for r in rows], batch_size=CHANGE_BATCH)


def created_many(*, job_id: int, resource: str, ids: list[int]) -> None:
    """One statement for a batch's "created" changes: the ids travel as one array parameter,
    so the change log costs no Python work per row."""
    import json

    from django.db import connection

    table = connection.ops.quote_name(ImportChange._meta.db_table)
    columns = "job_id, resource, object_id, action"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT %s, %s, unnest(%s::bigint[]), 'created'",
                [job_id, resource, ids],
            )
        else:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                "SELECT %s, %s, value, 'created' FROM json_each(%s) ORDER BY key",
                [job_id, resource, json.dumps(ids)],
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


# --- undo ------------------------------------------------------------------------------------


@dataclass
class UndoResult:
    deleted: int = 0
    restored: int = 0
    conflicts: list[str] = field(default_factory=list)
    skipped_conflicts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "restored": self.restored,
            "conflicts": self.conflicts,
            "skipped_conflicts": self.skipped_conflicts,
        }


MAX_CONFLICT_MESSAGES = 100


def changes_undo(*, job, force: bool = False, finished_at=None) -> UndoResult:
    """Delete what the job created and restore what it updated, newest first.

    A record changed by someone after the import (updated_at later than the import's end, or
    values no longer those the import wrote) is left alone and listed, unless ``force``.
    """
    result = UndoResult()
    finished_at = finished_at or job.finished_at or timezone.now()
    changes = ImportChange.objects.filter(job=job)
    resources = list(changes.values_list("resource", flat=True).order_by().distinct())
    # Undo the resources written last first (order lines before orders, contacts before the
    # accounts created for them), so nothing is protected by a record about to go.
    last_id = {
        r: changes.filter(resource=r).order_by("-pk").values_list("pk", flat=True).first()
        for r in resources
    }
    for resource_name in sorted(resources, key=lambda r: -last_id[r]):
        resource = resource_get(resource_name)
        model = resource.model
        label = str(model._meta.verbose_name)
        with transaction.atomic():
            for action in ("updated", "created"):
                qs = changes.filter(resource=resource_name, action=action).order_by("-pk")
                last = None
                while True:
                    # Keyset pages: undone changes are deleted as we go, kept ones stay.
                    page = qs if last is None else qs.filter(pk__lt=last)
                    chunk = list(page[:CHANGE_BATCH])
                    if not chunk:
                        break
                    last = chunk[-1].pk
                    _undo_chunk(
                        resource, model, label, action, chunk, force, finished_at, result, job
                    )
    return result


def _field(model, attname: str):
    return model._meta.get_field(attname)


def _conflict(result: UndoResult, message: str) -> None:
    result.skipped_conflicts += 1
    if len(result.conflicts) < MAX_CONFLICT_MESSAGES:
        result.conflicts.append(message)


def _undo_chunk(resource, model, label, action, chunk, force, finished_at, result, job) -> None:
    current = {
        obj.pk: obj
        for obj in resource.queryset(job.organization).filter(pk__in=[c.object_id for c in chunk])
    }
    done: list[int] = []  # changes undone (or moot): removed, so a later undo skips them
    by_object = {c.object_id: c.pk for c in chunk}
    try:
        _undo_objects(
            resource,
            model,
            label,
            action,
            chunk,
            force,
            finished_at,
            result,
            current,
            done,
            by_object,
        )
    finally:
        if done:
            ImportChange.objects.filter(pk__in=done).delete()


def _undo_objects(
    resource, model, label, action, chunk, force, finished_at, result, current, done, by_object
):
    if action == "created":
        deletable = []
        for change in chunk:
            obj = current.get(change.object_id)
            if obj is None:
                done.append(change.pk)
                continue  # already deleted by someone
            if not force and obj.updated_at > finished_at:
                _conflict(
                    result,
                    f"{label.capitalize()} '{obj}' was changed after the import; it was kept.",
                )
                continue
            deletable.append(obj.pk)
        if not deletable:
            return
        try:
            with transaction.atomic():
                model._base_manager.filter(pk__in=deletable).delete()
            result.deleted += len(deletable)
            done.extend(by_object[pk] for pk in deletable)
        except (ProtectedError, RestrictedError):
            # Some are still used by other records: delete the others one group at a time.
            for pk in deletable:
                try:
                    with transaction.atomic():
                        model._base_manager.filter(pk=pk).delete()
                    result.deleted += 1
                    done.append(by_object[pk])
                except (ProtectedError, RestrictedError):
                    obj = current[pk]
                    _conflict(
                        result,
                        f"{label.capitalize()} '{obj}' is used by other records; it was kept.",
                    )
        return
    restore = []
    fields_used: set[str] = set()
    for change in chunk:
        obj = current.get(change.object_id)
        if obj is None:
            _conflict(
                result, f"{label.capitalize()} #{change.object_id} was deleted after the import."
            )
            continue
        after = change.after or {}
        edited = any(
            _field(model, attname).to_python(value) != getattr(obj, attname)
            for attname, value in after.items()
        )
        if edited and not force:
            _conflict(
                result, f"{label.capitalize()} '{obj}' was changed after the import; it was kept."
            )
            continue
        changed = set()
        for attname, value in (change.before or {}).items():
            model_field = model._meta.get_field(attname)
            setattr(obj, attname, model_field.to_python(value))
            changed.add(attname)
        obj._ferry_changed = changed
        obj.updated_at = timezone.now()
        fields_used |= changed
        restore.append(obj)
        done.append(change.pk)
    if restore:
        bulk_update_changed(model, restore, fields_used)
        result.restored += len(restore)
