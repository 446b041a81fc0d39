"""Undo of an import: first the plan (its full effect), then exactly that plan.

An import's change log (``ImportChange``) says what it created (one row per batch, the keys as
ranges) and what it updated (one row per record). Undoing it must not destroy what came later,
so before anything is touched the plan is computed:

- every record the import created that still exists and nobody changed since is to be deleted;
- every record it updated that still holds the values the import wrote is to be restored;
- every other record the deletions would reach through the model relations (the same relations
  Django's deletion Collector follows: a cascade would delete it, SET_NULL would clear its
  reference, PROTECT would refuse) is something the import did not make: a person or a later
  import did. The import's record it depends on is a *conflict*: listed and kept.

With ``force`` the conflicts are undone as well; what the cascades then remove and the
references they clear are part of the plan, so the figures shown are the figures done.
Records still protected (PROTECT/RESTRICT from a record the undo would not delete) are kept
even when forced. ``undo_execute`` recomputes the plan inside its transaction, refuses when it
differs from the one a person confirmed (``expected``), and checks that the database deleted
exactly the planned counts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models.deletion import (
    CASCADE,
    PROTECT,
    RESTRICT,
    SET_DEFAULT,
    SET_NULL,
    get_candidate_relations_to_delete,
)
from django.utils import timezone

from business.resources import UnknownResource, registry, resource_get
from jobs.errors import FerryError
from wizard.engine.writing import bulk_update_changed
from wizard.models import ImportChange
from wizard.models.changes import ids_ranges

CHUNK = 2000
MAX_CONFLICT_MESSAGES = 100

Key = tuple[type[models.Model], int]

# Records a run owns besides its change log (bookkeeping another app keeps for the job, e.g.
# links to the records the job created): they go with the records they point at instead of
# being counted as conflicts, and stay when those are kept. The wizard does not know who keeps
# them, so apps register here: ``owner(job) -> {model: pks}``.
UNDO_OWNERS: list[Callable[[Any], dict[type[models.Model], set[int]]]] = []


def undo_owner_register(
    owner: Callable[[Any], dict[type[models.Model], set[int]]],
) -> Callable[[Any], dict[type[models.Model], set[int]]]:
    if owner not in UNDO_OWNERS:
        UNDO_OWNERS.append(owner)
    return owner


def _owned(job) -> dict[type[models.Model], set[int]]:
    out: dict[type[models.Model], set[int]] = defaultdict(set)
    for owner in UNDO_OWNERS:
        for model, pks in (owner(job) or {}).items():
            out[model].update(pks)
    return {m: ids for m, ids in out.items() if ids}


class UndoPlanChanged(FerryError):
    """The records changed between the plan a person confirmed and the undo itself."""

    def __init__(self):
        super().__init__(
            "The records changed since this undo was planned, so nothing was undone. "
            "Look at the new plan and confirm again.",
            code="undo_plan_changed",
        )


@dataclass
class Conflict:
    model: type[models.Model]
    pk: int
    reason: str  # changed | used | protected | deleted
    message: str


@dataclass
class UndoPlan:
    """What undoing one import would do, by model; ``as_dict`` is what pages, API and CLI show."""

    force: bool
    delete: dict[type[models.Model], set[int]] = field(default_factory=dict)
    cascade: dict[type[models.Model], set[int]] = field(default_factory=dict)
    unlink: dict[type[models.Model], set[int]] = field(default_factory=dict)
    restore: dict[type[models.Model], list[ImportChange]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    # Updated changes already moot (their record is gone): forgotten when the undo runs.
    moot: list[int] = field(default_factory=list)
    # Created records already gone: their keys are dropped from the change log.
    forgotten: int = 0
    # Per model, each created record still there → the ImportChange (one per batch) noting it.
    created_change: dict[type[models.Model], dict[int, int]] = field(default_factory=dict)
    # Every created ImportChange read → how many keys it notes: what undo keeps of it is
    # rewritten, the rest forgotten.
    created_rows: dict[int, int] = field(default_factory=dict)

    # --- figures -------------------------------------------------------------------------

    def deleted_count(self) -> int:
        return sum(len(v) for v in self.delete.values()) + sum(
            len(v) for v in self.cascade.values()
        )

    def restored_count(self) -> int:
        return sum(len(v) for v in self.restore.values())

    def deleted_by_model(self) -> dict[type[models.Model], int]:
        out: dict[type[models.Model], int] = defaultdict(int)
        for source in (self.delete, self.cascade):
            for model, ids in source.items():
                if ids:
                    out[model] += len(ids)
        return dict(out)

    def rows(self) -> list[dict[str, Any]]:
        """One row per model: what is deleted (of which by cascade), restored, unlinked, kept."""
        models_seen: list[type[models.Model]] = []
        for source in (self.delete, self.cascade, self.restore, self.unlink):
            for model, items in source.items():
                if items and model not in models_seen:
                    models_seen.append(model)
        kept: dict[type[models.Model], int] = defaultdict(int)
        for c in self.conflicts:
            kept[c.model] += 1
            if c.model not in models_seen:
                models_seen.append(c.model)
        return [
            {
                "model": _model_key(model),
                "label": str(model._meta.verbose_name_plural).capitalize(),
                "delete": len(self.delete.get(model, ())) + len(self.cascade.get(model, ())),
                "cascade": len(self.cascade.get(model, ())),
                "restore": len(self.restore.get(model, ())),
                "unlink": len(self.unlink.get(model, ())),
                "kept": kept.get(model, 0),
            }
            for model in models_seen
        ]

    @property
    def kept_count(self) -> int:
        return len(self.conflicts)

    @property
    def is_empty(self) -> bool:
        return not (self.deleted_count() or self.restored_count() or self.moot or self.forgotten)

    def digest(self) -> str:
        """A fingerprint of exactly which records the plan touches (and how)."""
        h = hashlib.sha256(b"force" if self.force else b"plain")
        for name, source in (
            ("delete", self.delete),
            ("cascade", self.cascade),
            ("unlink", self.unlink),
        ):
            for model in sorted(source, key=_model_key):
                ids = sorted(source[model])
                h.update(f"|{name}:{_model_key(model)}:".encode())
                h.update(",".join(map(str, ids)).encode())
        for model in sorted(self.restore, key=_model_key):
            h.update(f"|restore:{_model_key(model)}:".encode())
            h.update(",".join(str(c.pk) for c in sorted(self.restore[model], key=_pk)).encode())
        return h.hexdigest()[:32]

    def as_dict(self) -> dict[str, Any]:
        return {
            "force": self.force,
            "delete": self.deleted_count(),
            "restore": self.restored_count(),
            "kept": self.kept_count,
            "by_model": self.rows(),
            "conflicts": [c.message for c in self.conflicts[:MAX_CONFLICT_MESSAGES]],
            "digest": self.digest(),
        }


@dataclass
class UndoResult:
    """What an undo did: the plan it carried out."""

    plan: UndoPlan

    @property
    def deleted(self) -> int:
        return self.plan.deleted_count()

    @property
    def restored(self) -> int:
        return self.plan.restored_count()

    @property
    def conflicts(self) -> list[str]:
        return [c.message for c in self.plan.conflicts[:MAX_CONFLICT_MESSAGES]]

    @property
    def skipped_conflicts(self) -> int:
        return self.plan.kept_count

    def as_dict(self) -> dict[str, Any]:
        plan = self.plan.as_dict()
        return {
            "deleted": self.deleted,
            "restored": self.restored,
            "conflicts": self.conflicts,
            "skipped_conflicts": self.skipped_conflicts,
            "by_model": plan["by_model"],
            "force": self.plan.force,
        }


def _pk(change: ImportChange) -> int:
    return change.pk


def _model_key(model: type[models.Model]) -> str:
    try:
        return registry.for_model(model).name
    except KeyError:
        return model._meta.label_lower


def _label(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name).capitalize()


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _created_chunks(created) -> Iterable[list[tuple[int, int]]]:
    """(record pk, ImportChange pk) of the records created changes note, CHUNK at a time;
    one change notes a whole batch (``ids``), an older one its ``object_id`` alone."""
    chunk: list[tuple[int, int]] = []
    for change_pk, object_id, ids in created.order_by("pk").values_list("pk", "object_id", "ids"):
        for first, last in ids or [(object_id, object_id)]:
            pk = first
            while pk <= last:
                take = min(last, pk + CHUNK - len(chunk) - 1)
                chunk.extend((i, change_pk) for i in range(pk, take + 1))
                pk = take + 1
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def changes_created_q(*, job, resource: str, field: str = "pk") -> models.Q:
    """A filter on ``field`` for the records ``job`` created of ``resource`` (and undo has not
    taken back): one range per batch, so it stays short for any size of import."""
    q = models.Q(pk__in=[])
    created = ImportChange.objects.filter(
        job=job, resource=resource, action=ImportChange.Action.CREATED
    ).values_list("object_id", "ids")
    for object_id, ids in created:
        for first, last in ids or [(object_id, object_id)]:
            # gte/lte rather than range: a foreign key (``product_id``) has no range lookup.
            q |= models.Q(**{f"{field}__gte": first, f"{field}__lte": last})
    return q


def changes_created_ids(*, job, resource: str | None = None) -> list[int]:
    """The primary keys of the records ``job`` created (of ``resource``), ascending."""
    created = ImportChange.objects.filter(job=job, action=ImportChange.Action.CREATED)
    if resource is not None:
        created = created.filter(resource=resource)
    out: list[int] = []
    for change in created.only("object_id", "ids"):
        out.extend(change.object_ids())
    return sorted(out)


def _describe(model, pks: Iterable[int]) -> dict[int, str]:
    return {obj.pk: str(obj) for obj in model._base_manager.filter(pk__in=list(pks))}


# --- the plan ----------------------------------------------------------------------------------


def undo_plan(*, job, force: bool = False, finished_at=None) -> UndoPlan:
    """The full effect of undoing ``job`` now; nothing is written."""
    plan = UndoPlan(force=force)
    finished_at = finished_at or job.finished_at or timezone.now()
    changes = ImportChange.objects.filter(job=job)
    models_of: dict[str, type[models.Model]] = {}
    for name in changes.values_list("resource", flat=True).order_by().distinct():
        try:
            models_of[name] = resource_get(name).model
        except UnknownResource:
            continue
    pending: list[tuple[type[models.Model], int, str]] = []  # conflicts, described at the end

    # Restores first: a restored record may stop pointing at a record the import created.
    restored_refs: dict[Key, dict[str, Any]] = {}
    for name, model in models_of.items():
        updated = changes.filter(resource=name, action=ImportChange.Action.UPDATED).order_by("-pk")
        for chunk in _chunks(updated.values_list("pk", flat=True)):
            rows = list(ImportChange.objects.filter(pk__in=chunk).order_by("-pk"))
            current = {
                o.pk: o
                for o in model._base_manager.filter(
                    organization=job.organization, pk__in=[c.object_id for c in rows]
                )
            }
            seen: set[int] = set()
            for change in rows:
                if change.object_id in seen:
                    # The same import updated it twice (two rows): the oldest values win.
                    plan.restore.setdefault(model, []).append(change)
                    continue
                obj = current.get(change.object_id)
                if obj is None:
                    plan.conflicts.append(
                        Conflict(
                            model,
                            change.object_id,
                            "deleted",
                            f"{_label(model)} #{change.object_id} was deleted after the import.",
                        )
                    )
                    plan.moot.append(change.pk)
                    continue
                edited = any(
                    model._meta.get_field(attname).to_python(value) != getattr(obj, attname)
                    for attname, value in (change.after or {}).items()
                )
                if edited and not force:
                    pending.append((model, obj.pk, "changed"))
                    continue
                seen.add(change.object_id)
                plan.restore.setdefault(model, []).append(change)
                restored_refs[(model, obj.pk)] = {
                    **restored_refs.get((model, obj.pk), {}),
                    **(change.before or {}),
                }

    # The import's records that still exist, and whether someone changed them since.
    candidates: dict[type[models.Model], set[int]] = {}
    for name, model in models_of.items():
        created = changes.filter(resource=name, action=ImportChange.Action.CREATED)
        has_updated_at = any(f.name == "updated_at" for f in model._meta.concrete_fields)
        noted = plan.created_change.setdefault(model, {})
        for chunk in _created_chunks(created):
            by_object = dict(chunk)
            rows = plan.created_rows
            for _, change_pk in chunk:
                rows[change_pk] = rows.get(change_pk, 0) + 1
            fields = ["pk", "updated_at"] if has_updated_at else ["pk"]
            existing = model._base_manager.filter(
                organization=job.organization, pk__in=list(by_object)
            ).values_list(*fields)
            found = 0
            for row in existing:
                pk = row[0]
                found += 1
                noted[pk] = by_object[pk]
                if has_updated_at and row[1] > finished_at and not force:
                    pending.append((model, pk, "changed"))
                    continue
                candidates.setdefault(model, set()).add(pk)
            plan.forgotten += len(by_object) - found

    owned = _owned(job)
    for model, ids in owned.items():
        candidates.setdefault(model, set()).update(ids)
    # What the run owns stays with a record already kept (changed since the import).
    _parts_keep(candidates, [(m, pk) for m, pk, _ in pending], owned, parts=False)
    kept = _dependents_resolve(plan, candidates, restored_refs, pending, owned)
    plan.delete = {m: ids for m, ids in candidates.items() if ids}
    plan.conflicts.extend(_conflicts_describe(kept))
    plan.conflicts.sort(key=lambda c: (_model_key(c.model), c.message))
    return plan


def _dependents_resolve(
    plan: UndoPlan,
    candidates: dict[type[models.Model], set[int]],
    restored_refs: dict[Key, dict[str, Any]],
    kept: list[tuple[type[models.Model], int, str, Any]],
    owned: dict[type[models.Model], set[int]],
) -> list[tuple]:
    """Walk the relations from the records to delete until nothing more must be kept.

    A record another record depends on (one the undo would not delete) is kept, and the walk
    starts again, since keeping it may in turn keep what it points at.
    """
    kept = [(m, pk, reason, None) for m, pk, reason in kept]
    while True:
        plan.cascade, plan.unlink = {}, {}
        root_of: dict[Key, Key] = {}
        deleting = {m: set(ids) for m, ids in candidates.items()}
        queue = [(m, sorted(ids)) for m, ids in candidates.items() if ids]
        blocked: dict[Key, tuple[str, dict]] = {}
        while queue:
            model, ids = queue.pop(0)
            for rel in get_candidate_relations_to_delete(model._meta):
                related, fk = rel.related_model, rel.field
                on_delete = fk.remote_field.on_delete
                for chunk in _chunks(ids):
                    rows = related._base_manager.filter(**{f"{fk.name}__in": chunk}).values_list(
                        "pk", fk.attname
                    )
                    found: list[int] = []
                    for pk, target in rows:
                        if pk in deleting.get(related, ()):
                            continue
                        after_restore = restored_refs.get((related, pk), {})
                        if fk.attname in after_restore and after_restore[fk.attname] != target:
                            continue  # the restore points it elsewhere first
                        root = root_of.get((model, target), (model, target))
                        if not plan.force:
                            _block(blocked, root, "used", related)
                        elif on_delete is CASCADE:
                            found.append(pk)
                            root_of[(related, pk)] = root
                        elif _clears_reference(on_delete):
                            plan.unlink.setdefault(related, set()).add(pk)
                        else:  # PROTECT, RESTRICT, DO_NOTHING: refused by the database
                            reason = "protected" if on_delete in (PROTECT, RESTRICT) else "used"
                            _block(blocked, root, reason, related)
                    if found:
                        deleting.setdefault(related, set()).update(found)
                        plan.cascade.setdefault(related, set()).update(found)
                        queue.append((related, found))
        if not blocked:
            for model, ids in plan.unlink.items():
                ids -= deleting.get(model, set())
            plan.unlink = {m: ids for m, ids in plan.unlink.items() if ids}
            plan.cascade = {m: ids for m, ids in plan.cascade.items() if ids}
            return kept
        for (model, pk), (reason, by) in blocked.items():
            candidates.get(model, set()).discard(pk)
            kept.append((model, pk, reason, dict(by)))
        kept.extend(_parts_keep(candidates, list(blocked), owned))


def _parts_keep(
    candidates: dict[type[models.Model], set[int]],
    kept: list[Key],
    owned: dict[type[models.Model], set[int]],
    *,
    parts: bool = True,
) -> list[tuple]:
    """The import's records that belong to a kept record (a cascade would delete them with
    it: an order's lines) stay with it, so a kept order is not left without its own lines.
    Records the run owns (``UNDO_OWNERS``) that point at a kept record stay too, silently:
    they are the kept record's bookkeeping, not a conflict of their own."""
    out = []
    queue = list(kept)
    while queue:
        by_model: dict[type[models.Model], list[int]] = defaultdict(list)
        for model, pk in queue:
            by_model[model].append(pk)
        queue = []
        for model, pks in by_model.items():
            for rel in get_candidate_relations_to_delete(model._meta):
                related, fk = rel.related_model, rel.field
                own = candidates.get(related)
                cascades = parts and fk.remote_field.on_delete is CASCADE
                bookkeeping = owned.get(related, set())
                if not own or not (cascades or bookkeeping):
                    continue
                for chunk in _chunks(pks):
                    rows = related._base_manager.filter(**{f"{fk.name}__in": chunk})
                    for pk, owner in rows.values_list("pk", fk.attname):
                        if pk not in own:
                            continue
                        if pk in bookkeeping:
                            own.discard(pk)
                        elif cascades:
                            own.discard(pk)
                            out.append((related, pk, "part", (model, owner)))
                        else:
                            continue
                        queue.append((related, pk))
    return out


def _block(blocked: dict, root: Key, reason: str, related: type[models.Model]) -> None:
    """Keep ``root``: a ``related`` record it does not own depends on it."""
    old_reason, by = blocked.get(root, (reason, defaultdict(int)))
    by[related] += 1
    blocked[root] = ("protected" if "protected" in (reason, old_reason) else reason, by)


def _clears_reference(on_delete) -> bool:
    """SET_NULL, SET_DEFAULT and SET(...): the dependent stays, its reference is cleared."""
    if on_delete in (SET_NULL, SET_DEFAULT):
        return True
    deconstruct = getattr(on_delete, "deconstruct", None)
    return deconstruct is not None and deconstruct()[0] == "django.db.models.SET"


def _conflicts_describe(kept: list[tuple]) -> list[Conflict]:
    """Readable reasons; names are read for the listed ones only (one query per model)."""
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    for model, pk, reason, by in kept[:MAX_CONFLICT_MESSAGES]:
        wanted[model].add(pk)
        if reason == "part":
            wanted[by[0]].add(by[1])
    names = {model: _describe(model, pks) for model, pks in wanted.items()}
    out = []
    for model, pk, reason, by in kept:
        label = _label(model)
        name = names.get(model, {}).get(pk, f"#{pk}")
        if reason == "changed":
            text = f"{label} '{name}' was changed after the import; it was kept."
        elif reason == "part":
            owner_model, owner_pk = by
            owner = names.get(owner_model, {}).get(owner_pk, f"#{owner_pk}")
            text = (
                f"{label} '{name}' belongs to {owner_model._meta.verbose_name} '{owner}', "
                "which is kept; it was kept with it."
            )
        else:
            users = ", ".join(
                f"{count} {related._meta.verbose_name if count == 1 else related._meta.verbose_name_plural}"
                for related, count in by.items()
            )
            text = (
                f"{label} '{name}' is used by {users} this import did not create"
                + ("; the database refuses to delete it" if reason == "protected" else "")
                + "; it was kept."
            )
        out.append(Conflict(model, pk, reason, text))
    return out


# --- carrying it out --------------------------------------------------------------------------


def undo_execute(*, job, force: bool = False, expected: str | None = None) -> UndoResult:
    """Carry out the plan: restores, then deletions (dependents first), in one transaction.

    ``expected``: the digest of the plan a person saw; when the records changed since, nothing
    is done (UndoPlanChanged). Whatever happens, the database deletes exactly the planned
    counts or the whole undo is rolled back.
    """
    with transaction.atomic():
        plan = undo_plan(job=job, force=force)
        if expected and plan.digest() != expected:
            raise UndoPlanChanged()
        done: list[int] = list(plan.moot)
        now = timezone.now()
        for model, changes in plan.restore.items():
            objs = {}
            # Newest first, so when one import updated a record twice its oldest "before" wins.
            for change in sorted(changes, key=_pk, reverse=True):
                obj = objs.get(change.object_id)
                if obj is None:
                    obj = model._base_manager.get(pk=change.object_id)
                    obj._ferry_changed = set()
                    objs[change.object_id] = obj
                for attname, value in (change.before or {}).items():
                    setattr(obj, attname, model._meta.get_field(attname).to_python(value))
                    obj._ferry_changed.add(attname)
                done.append(change.pk)
            for obj in objs.values():
                obj.updated_at = now
            if objs:
                fields = set().union(*(o._ferry_changed for o in objs.values()))
                bulk_update_changed(model, list(objs.values()), fields)
        deleted: dict[str, int] = defaultdict(int)
        for model in _deletion_order(list(plan.delete)):
            for chunk in _chunks(sorted(plan.delete[model])):
                _, per_model = model._base_manager.filter(pk__in=chunk).delete()
                for label, count in per_model.items():
                    deleted[label] += count
        planned = {m._meta.label: n for m, n in plan.deleted_by_model().items()}
        if {k: v for k, v in deleted.items() if v} != planned:
            # Something the plan did not foresee (a record written meanwhile): undo nothing.
            raise UndoPlanChanged()
        # Undone (or moot) changes are forgotten; the kept ones stay, so a forced undo later
        # can still take them back. A created change keeps the keys of its kept records only
        # (owned records, UNDO_OWNERS, have no change of their own).
        kept: dict[int, list[int]] = {pk: [] for pk in plan.created_rows}
        for model, noted in plan.created_change.items():
            deleting = plan.delete.get(model, set())
            for pk, change_pk in noted.items():
                if pk not in deleting:
                    kept[change_pk].append(pk)
        for change_pk, ids in kept.items():
            if not ids:
                done.append(change_pk)
                continue
            if len(ids) == plan.created_rows[change_pk]:
                continue  # nothing of it undone
            ranges = ids_ranges(ids)
            ImportChange.objects.filter(pk=change_pk).update(object_id=ranges[0][0], ids=ranges)
        for chunk in _chunks(done):
            ImportChange.objects.filter(pk__in=chunk).delete()
    return UndoResult(plan=plan)


def _deletion_order(models_: list[type[models.Model]]) -> list[type[models.Model]]:
    """Models that point at others first, so no record about to go protects another."""
    ordered: list[type[models.Model]] = []
    remaining = list(models_)
    while remaining:
        for model in remaining:
            pointed_by = [
                other
                for other in remaining
                if other is not model
                and any(
                    f.is_relation and f.many_to_one and f.related_model is model
                    for f in other._meta.concrete_fields
                )
            ]
            if not pointed_by:
                break
        else:
            model = remaining[0]  # a cycle: the database sorts it out or refuses
        ordered.append(model)
        remaining.remove(model)
    return ordered
