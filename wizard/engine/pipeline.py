"""The import pipeline: read → map → parse/validate → match duplicates → write → log.

Rows stream from the reader in batches (settings.FERRY["IMPORT_BATCH_SIZE"]). Per batch:
one query per relation, one for existing duplicates, bulk writes, and the change log that
makes the run undoable. Nothing is done per row against the database.

Modes:
- dry run: nothing is written to the business tables; every row is classified as it would
  be (records an earlier row of the same file would create count as existing). No long
  write transaction, so previews never lock the database.
- skip-invalid: each batch is written in its own transaction; invalid rows are logged.
- atomic: the whole run is one transaction. At the first invalid row it is rolled back and
  the rest of the file is only validated, so every error is still reported.
"""

from __future__ import annotations

import csv
import gc
import json
import logging
import os
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.conf import settings as django_settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from jobs.errors import FerryError, JobTakenOver, LimitExceeded
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_log
from wizard.engine.keys import SeenKeys
from wizard.engine.matching import (
    UNRESOLVED_TALLY_LIMIT,
    ReferenceResolver,
    existing_lookup,
    references_lookup,
)
from wizard.engine.settings import ImportSettings
from wizard.engine.validation import FieldPlan, Row, date_formats_guess, plans_compile, row_parse
from wizard.engine.writing import InstanceFactory, bulk_update_changed, changes_record, jsonable
from wizard.models import ImportRow
from wizard.parsing import quote

logger = logging.getLogger(__name__)

MAX_SUMMARY_ERRORS = 100
# A variant SKU is its parent's SKU plus a short suffix that starts with a letter: 11400-BE.
VARIANT_SUFFIX_MAX = 4


class ImportRolledBack(FerryError):
    """An all-or-nothing import found invalid rows: nothing was written."""

    def __init__(self, message: str, summary: dict):
        super().__init__(message, code="rolled_back")
        self.summary = summary


class _Abort(Exception):
    """Leaves the all-or-nothing transaction so it rolls back."""


def variant_parent(sku: str) -> str | None:
    base, sep, suffix = sku.rpartition("-")
    if not sep or not base or not suffix or len(suffix) > VARIANT_SUFFIX_MAX:
        return None
    if not suffix[0].isalpha() or not suffix.isalnum():
        return None
    return base


class SideProgress:
    """Progress of an all-or-nothing run, written through a second connection.

    Inside the run's one long transaction the job's progress writes would stay invisible to
    the pages polling it until the end. On PostgreSQL a second connection (autocommit) makes
    them visible at once. (SQLite allows one writer at a time, so there the progress of an
    all-or-nothing import shows when it ends.)
    """

    def __init__(self, inner, *, job):
        from django.db import DEFAULT_DB_ALIAS, connections

        self.inner = inner
        self.job = job
        self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        self.table = connection.ops.quote_name(self.job._meta.db_table)
        self._percent = -2
        self._last = 0.0

    def set_total(self, total):
        self.inner.set_total(total)

    def check_cancel(self, **kwargs):
        self.inner.check_cancel(**kwargs)

    def update(self, *, processed, succeeded=None, failed=None, skipped=None, force=False):
        # Not through the inner progress: its write would lock the job's row inside the long
        # transaction, and the second connection would then wait for it for ever.
        job = self.job
        job.processed = processed
        for name, value in (("succeeded", succeeded), ("failed", failed), ("skipped", skipped)):
            if value is not None:
                setattr(job, name, value)
        now = time.monotonic()
        percent = int(processed * 100 / job.total) if job.total else -1
        if not force and percent == self._percent and now - self._last < 1.0:
            return False
        self._percent, self._last = percent, now
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET processed = %s, succeeded = %s, failed = %s, "
                "skipped = %s, heartbeat_at = %s WHERE id = %s",
                [job.processed, job.succeeded, job.failed, job.skipped, timezone.now(), job.pk],
            )
        return True

    def close(self):
        self.side.close()


class LogSink:
    """Row-log entries; held in a temporary file while a transaction may still roll back."""

    def __init__(self, job):
        self.job = job
        self.deferred = False
        self._spool = None
        self._buffer: list[dict] = []

    def add(self, entries: list[dict]) -> None:
        if not entries:
            return
        if self.deferred:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            for e in entries:
                self._spool.write(json.dumps(e) + "\n")
        else:
            job_log(job=self.job, entries=entries)

    def flush(self) -> None:
        self.deferred = False
        if self._spool is None:
            return
        self._spool.seek(0)
        batch: list[dict] = []
        for line in self._spool:
            batch.append(json.loads(line))
            if len(batch) >= 2000:
                job_log(job=self.job, entries=batch)
                batch = []
        if batch:
            job_log(job=self.job, entries=batch)
        self._spool.close()
        self._spool = None


class FailedRows:
    """The failed rows in their original columns plus ``error``, spooled to a temporary CSV."""

    def __init__(self, headers: Sequence[str]):
        self.headers = list(headers)
        self.count = 0
        self._file = None
        self._writer = None

    def add(self, raw: Sequence[Any], error: str) -> None:
        if self._file is None:
            self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115
                "w+", encoding="utf-8", newline="", suffix=".csv", delete=False
            )
            self._writer = csv.writer(self._file)
            self._writer.writerow([*self.headers, "error"])
        cells = ["" if v is None else jsonable(v) for v in raw]
        self._writer.writerow([*cells, error])
        self.count += 1

    def close(self) -> str | None:
        if self._file is None:
            return None
        self._file.close()
        return self._file.name


def _message(row_number: int, column: str, text: str) -> str:
    if column:
        return f"Row {row_number}, column '{column}': {text}"
    return f"Row {row_number}: {text}"


class ImportRun:
    """One run of the pipeline over one file."""

    # Whether a run whose worker died can go on from its checkpoint (see ``_resume_skip``).
    resumable = True

    def __init__(
        self,
        *,
        job,
        settings: ImportSettings,
        headers: Sequence[str],
        source: Iterable[Any],
        progress=None,
        row_estimate: int | None = None,
        edits: dict[int, dict[str, Any]] | None = None,
        preview_job=None,
        batch_size: int | None = None,
        max_rows: int | None = None,
        failed_rows: bool = True,
        resume: dict[str, Any] | None = None,
    ):
        self.job = job
        # The checkpoint of a run whose worker died: its rows are skipped, its counts kept.
        self.resume = resume or {}
        self.organization = job.organization
        self.settings = settings
        self.resource = settings.resource
        self.model = self.resource.model
        self.headers = [str(h) for h in headers]
        self.width = len(self.headers)
        self.source = source
        self.progress = progress
        self.row_estimate = row_estimate
        self.edits = edits or {}
        self.header_index = {h: i for i, h in reversed(list(enumerate(self.headers)))}
        self.preview_job = preview_job
        self.batch_size = batch_size or django_settings.FERRY["IMPORT_BATCH_SIZE"]
        self.max_rows = (
            max_rows if max_rows is not None else django_settings.FERRY["MAX_IMPORT_ROWS"]
        )
        self.simulate = settings.dry_run
        self.atomic = settings.mode == "atomic" and not settings.dry_run
        self.rolled_back = False
        self.recording = True
        self.seen: dict[str, SeenKeys] = defaultdict(SeenKeys)
        self.unique_seen: dict[str, SeenKeys] = defaultdict(SeenKeys)
        self.counts = Counter()
        self.unresolved: dict[str, Counter] = defaultdict(Counter)
        self.references_created: Counter = Counter()
        self.errors_sample: list[dict] = []
        self.log = LogSink(job)
        self.failed = FailedRows(self.headers) if failed_rows else None
        self.processed = 0
        self.total_reported: int | None = None
        self.plans: list[FieldPlan] = []
        self.key_plans: list[FieldPlan] = []
        self.date_formats: dict[str, str] = {}
        self.now = timezone.now()

    # --- set-up ----------------------------------------------------------------------------

    def compile(self, sample: Sequence[Sequence[Any]]) -> None:
        s = self.settings
        fixed = {
            name: opts["date_format"] for name, opts in s.options.items() if opts.get("date_format")
        }
        fixed.update({k: v for k, v in s.date_formats.items() if k not in fixed})
        plans = self._plans_for(self.resource, {})
        self.date_formats, warnings = date_formats_guess(plans=plans, rows=sample, fixed=fixed)
        for column, text in warnings:
            if self.resume:
                break  # logged and counted by the run this one resumes
            self.counts["warnings"] += 1
            self.log.add(
                [dict(row_number=None, column=column, value="", message=text, level="warning")]
            )
        self.plans = self._plans_for(self.resource, self.date_formats)
        self.key_plans = [p for p in self.plans if p.is_key]
        self.mapped_attnames = [p.model_field.attname for p in self.plans]
        self.unique_plans = [p for p in self.plans if (s.rules.get(p.name) or {}).get("unique")]
        self.variant_linking = (
            self.resource.name == "products"
            and "parent" not in {p.name for p in self.plans}
            and "sku" in {p.name for p in self.plans}
        )
        if self.variant_linking:
            self.mapped_attnames.append("parent_id")
        self.resolver = ReferenceResolver(run=self, plans=self.plans)
        self.factory = InstanceFactory(
            self.model,
            organization_id=self.organization.pk,
            defaults=self._defaults(self.resource, self.plans),
        )

    def _plans_for(self, resource, date_formats, only=None) -> list[FieldPlan]:
        s = self.settings
        return plans_compile(
            resource=resource,
            headers=self.headers,
            mapping=s.mapping,
            options=s.options,
            rules=s.rules,
            date_formats=date_formats,
            only=only,
        )

    @staticmethod
    def _defaults(resource, plans) -> dict[str, Any]:
        mapped = {p.name for p in plans}
        out = {}
        for f in resource.importable_fields():
            if f.name not in mapped and f.default is not None and f.ref is None:
                out[resource.model._meta.get_field(f.model_attr).attname] = f.default
        return out

    # --- hooks used by the resolver --------------------------------------------------------

    def pending_keys(self, resource_name: str, values: Iterable[str]) -> set[str]:
        """Keys of ``resource_name`` that an earlier row of this file defines."""
        if resource_name != self.resource.name or len(self.resource.key) != 1:
            return set()
        seen = self.seen[resource_name]
        return {v for v in values if (v,) in seen}

    def references_create(self, target, key: str, values: Sequence[str]) -> dict[str, int]:
        if self.simulate:
            return {}
        objs = [target.model(organization=self.organization, **{key: v}) for v in values]
        target.model._base_manager.bulk_create(objs)
        changes_record(job_id=self.job.pk, resource=target.name, created=[o.pk for o in objs])
        self.references_created[target.name] += len(objs)
        return {getattr(o, key): o.pk for o in objs}

    def tally_unresolved(self, field: str, value: str) -> None:
        tally = self.unresolved[field]
        if value in tally or len(tally) < UNRESOLVED_TALLY_LIMIT:
            tally[value] += 1

    # --- the run ---------------------------------------------------------------------------

    def batches(self) -> Iterator[list[Row]]:
        rows = iter(self.source)
        limit = self.settings.limit
        taken = 0
        while True:
            size = self.batch_size if limit is None else min(self.batch_size, limit - taken)
            if size <= 0:
                return
            chunk = list(islice(rows, size))
            if not chunk:
                return
            taken += len(chunk)
            if taken > self.max_rows:
                raise LimitExceeded(
                    f"The file has more than {self.max_rows:,} data rows, the most one import may "
                    "have. Split it into smaller files."
                )
            yield [self._row(sr) for sr in chunk]

    def _row(self, source_row) -> Row:
        values = source_row.values
        edits = self.edits.get(source_row.number)
        if edits:
            original = values
            values = list(values)
            for header, value in edits.items():
                i = self.header_index.get(header)
                if i is None:
                    continue
                while len(values) <= i:
                    values.append("")
                values[i] = value
            row = Row(source_row.number, values)
            row.extra = {"original": original}
            return row
        return Row(source_row.number, values)

    def execute(self) -> dict[str, Any]:
        if self.progress is not None:
            self.total_reported = (
                min(self.row_estimate, self.settings.limit)
                if self.row_estimate and self.settings.limit
                else self.row_estimate
            )
            self.progress.set_total(self.total_reported)
        batches = self.batches()
        first = next(batches, [])
        self.compile([r.raw for r in first])
        all_batches = _chain_first(first, batches)
        if self.resume:
            all_batches = self._resume_skip(all_batches)
        if self.atomic:
            self.log.deferred = True
            side = None
            if self.progress is not None and connection.vendor == "postgresql":
                side = self.progress = SideProgress(self.progress, job=self.job)
            try:
                with transaction.atomic():
                    for batch in all_batches:
                        self._batch(batch)
                        if self.counts["failed"]:
                            raise _Abort()
            except _Abort:
                self.rolled_back = True
                self.simulate = True
                # Records created before the rollback are gone: forget their keys.
                for resolver in (self.resolver, getattr(self, "line_resolver", None)):
                    if resolver is not None:
                        resolver.cache.clear()
                self.log.flush()
                for batch in all_batches:
                    self._batch(batch)
            else:
                self.log.flush()
            finally:
                if side is not None:
                    side.close()
                    self.progress = side.inner
        else:
            for batch in all_batches:
                self._batch(batch)
        return self.finish()

    def _batch(self, rows: list[Row]) -> None:
        if self.progress is not None:
            self.progress.check_cancel()
        self.now = timezone.now()
        if self.checkpointing:
            # The batch's records, change log, row log and the checkpoint saying how far the
            # run got commit together: a worker dying anywhere leaves a consistent point to
            # resume from, and no row is written twice.
            with transaction.atomic():
                self.process(rows)
                self.processed += len(rows)
                self.checkpoint_save(rows)
        else:
            self.process(rows)
            self.processed += len(rows)
        if self.progress is not None:
            c = self.counts
            self.progress.update(
                processed=self.processed,
                succeeded=c["created"] + c["updated"],
                failed=c["failed"],
                skipped=c["skipped"],
            )

    # --- checkpoint and resume -------------------------------------------------------------

    @property
    def checkpointing(self) -> bool:
        """Skip-invalid real runs stand batch by batch, so they can resume after a crash."""
        return not self.simulate and not self.atomic and self.preview_job is None

    def checkpoint_save(self, rows: list[Row]) -> None:
        c = self.counts
        job_counts = {
            "processed": self.processed,
            "succeeded": c["created"] + c["updated"],
            "failed": c["failed"],
            "skipped": c["skipped"],
        }
        checkpoint = {
            "rows": self.processed,
            "last_row": rows[-1].number,
            "counts": dict(c),
            "unresolved": {f: dict(t) for f, t in self.unresolved.items() if t},
            "references_created": dict(self.references_created),
            "errors": self.errors_sample,
            "job_counts": job_counts,
        }
        # Only while this run's attempt is the job's: if the job was given to another worker
        # (this one was taken for dead), the batch rolls back instead of being written twice.
        saved = DataJob.objects.filter(pk=self.job.pk, attempt=self.job.attempt).update(
            checkpoint=checkpoint, heartbeat_at=timezone.now(), **job_counts
        )
        if not saved:
            raise JobTakenOver()

    def _resume_skip(self, batches: Iterator[list[Row]]) -> Iterator[list[Row]]:
        """Skip the rows the checkpoint says are committed; yield the rest.

        The skipped rows are parsed again (no database work) so that an in-file duplicate of
        one of them is still reported as such, and their failed rows go to the failed-rows
        file again, with the messages the row log holds for them.
        """
        done = int(self.resume.get("rows") or 0)
        self.counts = Counter(self.resume.get("counts") or {})
        self.unresolved = defaultdict(
            Counter, {f: Counter(t) for f, t in (self.resume.get("unresolved") or {}).items()}
        )
        self.references_created = Counter(self.resume.get("references_created") or {})
        self.errors_sample = list(self.resume.get("errors") or [])
        self.processed = done
        replayed = 0
        for batch in batches:
            if replayed >= done:
                yield batch
                continue
            take = min(len(batch), done - replayed)
            self._replay(batch[:take])
            replayed += take
            if take < len(batch):
                yield batch[take:]

    def _replay(self, rows: list[Row]) -> None:
        plans, width = self.plans, self.width
        for row in rows:
            row_parse(plans, row, width)
        self.keys_check(rows)
        if self.failed is None:
            return
        messages: dict[int, list[str]] = defaultdict(list)
        logged = (
            JobLogEntry.objects.filter(
                job=self.job,
                level=JobLogEntry.Level.ERROR,
                row_number__gte=rows[0].number,
                row_number__lte=rows[-1].number,
            )
            .order_by("row_number", "pk")
            .values_list("row_number", "message")
        )
        for number, message in logged:
            messages[number].append(message)
        for row in rows:
            texts = messages.get(row.number)
            if texts:
                self.failed.add(row.raw, "; ".join(t.split(": ", 1)[-1] for t in texts))

    # --- one batch -------------------------------------------------------------------------

    def process(self, rows: list[Row]) -> None:
        plans, width = self.plans, self.width
        for row in rows:
            row_parse(plans, row, width)
        self.keys_check(rows)
        if self.simulate:
            self.prepare(rows)
            self.record(rows)
            return

        def work() -> None:
            self.prepare(rows)  # may create missing references: they belong to this batch
            if self.atomic:
                self.write(rows)
                return
            _relaxed_commit()
            try:
                with transaction.atomic():
                    self.write(rows)
            except IntegrityError:
                # Someone wrote the same keys meanwhile: fall back to one row at a time to
                # find the rows that clash; the others are written.
                self.write_one_by_one(rows)

        self.write_guarded(rows, work)
        self.record(rows)

    def prepare(self, rows: list[Row]) -> None:
        """References resolved (missing ones created unless simulating), rows classified."""
        self.resolver.resolve(rows)
        if self.variant_linking:
            self.variants_link(rows)
        self.classify(rows)

    def write_guarded(self, rows: list[Row], work) -> None:
        """One batch's database work in one savepoint, reported against its rows if refused.

        The records "create missing" makes for a batch are written with the batch: if the
        database refuses any of it (a unique constraint someone else's write now trips, a
        value it will not store), nothing of the batch stays — its created references
        included — and each of its rows fails with the database's reason. In an
        all-or-nothing run those failed rows then roll the whole run back.
        """
        saved = (
            Counter(self.references_created),
            self.counts["parents_created"],
            {f: Counter(t) for f, t in self.unresolved.items()},
        )
        try:
            with transaction.atomic():
                work()
        except DatabaseError as exc:
            logger.warning(
                "import job %s: a batch was refused by the database: %s", self.job.pk, exc
            )
            self.references_created, parents, unresolved = saved
            self.counts["parents_created"] = parents
            self.unresolved = defaultdict(Counter, unresolved)
            # Records the savepoint took back may be remembered by key: forget them.
            for resolver in (self.resolver, getattr(self, "line_resolver", None)):
                if resolver is not None:
                    resolver.cache.clear()
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            for row in rows:
                if row.status in (ImportRow.Status.NEW, ImportRow.Status.UPDATE) or (
                    not row.status and not row.errors
                ):
                    row.error("", "", f"could not be saved: {reason}")
                if row.errors:
                    row.status = ImportRow.Status.INVALID
                row.obj = None

    def keys_check(self, rows: list[Row]) -> None:
        """In-file duplicates of the natural key and of fields with a 'unique' rule."""
        key_plans = self.key_plans
        seen = self.seen[self.resource.name]
        first_in_batch: dict[tuple, int] = {}
        single = key_plans[0].attname if len(key_plans) == 1 else None
        for row in rows:
            if row.errors:
                continue
            values = row.values
            key = (
                (values.get(single),) if single else tuple(values.get(p.attname) for p in key_plans)
            )
            if not key_plans or any(k is None or k == "" for k in key):
                row.key = None
            else:
                row.key = key
                if not seen.add(key):
                    earlier = first_in_batch.get(key)
                    where = f"row {earlier}" if earlier else "an earlier row"
                    plan = key_plans[0]
                    label = " + ".join(p.field.label for p in key_plans)
                    row.error(
                        plan.column,
                        values.get(plan.attname),
                        f"{quote(', '.join(str(k) for k in key))} appears more than once in this file "
                        f"({label} must be unique; first on {where})",
                    )
                    continue
                first_in_batch[key] = row.number
            for plan in self.unique_plans:
                value = values.get(plan.attname)
                if value is None or value == "":
                    continue
                if not self.unique_seen[plan.name].add((value,)):
                    row.error(
                        plan.column,
                        value,
                        f"{quote(value)} appears more than once in this file (must be unique)",
                    )

    def variants_link(self, rows: list[Row]) -> None:
        """Products: link a variant SKU (11400-BE) to its parent (11400) when no parent column."""
        wanted: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            if row.errors:
                continue
            parent = variant_parent(row.values.get("sku") or "")
            if parent:
                wanted[parent].append(row)
            else:
                row.values["parent_id"] = None
        if not wanted:
            return
        found, _ = references_lookup(
            organization=self.organization, resource=self.resource, key="sku", values=wanted
        )
        seen = self.seen[self.resource.name]
        create = self.settings.create_missing.get("parent")
        to_create = []
        for parent, children in wanted.items():
            if parent in found:
                for row in children:
                    row.values["parent_id"] = found[parent]
            elif (parent,) in seen:
                for row in children:
                    row.values["parent_id"] = None
                    row.extra = row.extra or {}
                    row.extra.setdefault("pending", []).append(("parent_id", "products", parent))
            elif create:
                to_create.append((parent, children))
            else:
                for row in children:
                    row.values["parent_id"] = None
                    row.warn(
                        self._column("sku"),
                        row.values.get("sku"),
                        f"looks like a variant of '{parent}', but there is no product with that SKU; "
                        "imported without a parent",
                    )
        if to_create:
            self.tally_unresolved("parent", "")
            self.unresolved["parent"].pop("", None)
            for parent, children in to_create:
                self.unresolved["parent"][parent] += len(children)
            if self.simulate:
                for _, children in to_create:
                    for row in children:
                        row.values["parent_id"] = None
                return
            ids = self.factory.insert(
                [
                    {"sku": parent, "name": children[0].values.get("name") or parent}
                    for parent, children in to_create
                ],
                now=timezone.now(),
            )
            changes_record(job_id=self.job.pk, resource="products", created=ids)
            self.references_created["products"] += len(ids)
            self.counts["parents_created"] += len(ids)
            for pk, (_, children) in zip(ids, to_create, strict=True):
                for row in children:
                    row.values["parent_id"] = pk

    def _column(self, name: str) -> str:
        for p in self.plans:
            if p.name == name:
                return p.column
        return name

    def classify(self, rows: list[Row]) -> None:
        """new / update / unchanged / invalid, against the existing records (one query)."""
        key_attnames = [p.model_field.attname for p in self.key_plans]
        keyed = [r for r in rows if not r.errors and r.key is not None]
        existing = {}
        if keyed and key_attnames:
            existing = existing_lookup(
                organization=self.organization,
                resource=self.resource,
                key_attnames=key_attnames,
                keys=self._keys(keyed, key_attnames),
                fields=self.mapped_attnames,
            )
        policy = self.settings.on_duplicate
        attnames = self.mapped_attnames
        for row in rows:
            if row.errors:
                row.status = ImportRow.Status.INVALID
                continue
            obj = None
            if existing and row.key is not None:
                obj = existing.get(self._keys([row], key_attnames)[0])
            if obj is None:
                row.status = ImportRow.Status.NEW
                continue
            row.existing = obj
            if policy == "create":
                plan = self.key_plans[0]
                row.error(
                    plan.column,
                    row.values.get(plan.attname),
                    f"a {self.model._meta.verbose_name} with this {plan.field.label.lower()} already "
                    "exists, and it must be unique, so a new one cannot be created (choose skip or update)",
                )
                row.status = ImportRow.Status.INVALID
                continue
            changes = {}
            values = row.values
            for attname in attnames:
                if attname not in values:
                    continue
                old, new = getattr(obj, attname), values[attname]
                if old != new:
                    changes[attname] = (old, new)
            row.changes = changes
            if policy == "skip" or not changes:
                row.status = ImportRow.Status.UNCHANGED
            else:
                row.status = ImportRow.Status.UPDATE

    @staticmethod
    def _keys(rows: list[Row], attnames: list[str]) -> list[tuple]:
        if len(attnames) == 1:
            a = attnames[0]
            return [(r.values.get(a),) for r in rows]
        return [tuple(r.values.get(a) for a in attnames) for r in rows]

    def write(self, rows: list[Row]) -> None:
        new = [r for r in rows if r.status == ImportRow.Status.NEW]
        if new:
            ids = self.factory.insert([r.values for r in new], now=self.now)
            for row, pk in zip(new, ids, strict=True):
                row.obj = pk
            self.pending_fix(new)
            changes_record(job_id=self.job.pk, resource=self.resource.name, created=ids)
        updates = [r for r in rows if r.status == ImportRow.Status.UPDATE]
        if updates:
            objs, logged, used = [], [], set()
            now = self.now
            for row in updates:
                obj = row.existing
                before, after = {}, {}
                for attname, (old, new) in row.changes.items():
                    setattr(obj, attname, new)
                    before[attname] = jsonable(old)
                    after[attname] = jsonable(new)
                obj._ferry_changed = set(row.changes)
                used |= obj._ferry_changed
                obj.updated_at = now
                objs.append(obj)
                logged.append((obj.pk, before, after))
            bulk_update_changed(self.model, objs, used)
            changes_record(job_id=self.job.pk, resource=self.resource.name, updated=logged)

    def pending_fix(self, new: list[Row]) -> None:
        """Set references to records this same batch created (self references, variants)."""
        waiting = [r for r in new if r.extra and r.extra.get("pending")]
        if not waiting:
            return
        by_key = {r.key[0]: r.obj for r in new if r.key is not None and len(r.key) == 1}
        missing = {key for r in waiting for _, _, key in r.extra["pending"] if key not in by_key}
        if missing:
            found, _ = references_lookup(
                organization=self.organization,
                resource=self.resource,
                key=self.resource.key[0],
                values=missing,
            )
            by_key.update(found)
        fixed, fields = [], set()
        pk_name = self.model._meta.pk.attname
        for row in waiting:
            obj = self.factory.make({pk_name: row.obj})
            for attname, _, key in row.extra["pending"]:
                pk = by_key.get(key)
                if pk is None:
                    row.warn(
                        self._column(attname.removesuffix("_id")),
                        key,
                        f"{quote(key)} was not imported, so it is not linked",
                    )
                    continue
                setattr(obj, attname, pk)
                row.values[attname] = pk
                fields.add(attname)
            fixed.append(obj)
        if fields:
            self.model._base_manager.bulk_update(fixed, sorted(fields), batch_size=500)

    def write_one_by_one(self, rows: list[Row]) -> None:
        # Re-read the duplicates: the clash means the database changed under us.
        for row in rows:
            if row.status in (ImportRow.Status.NEW, ImportRow.Status.UPDATE):
                row.obj = None
        self.classify([r for r in rows if r.status != ImportRow.Status.INVALID])
        for row in rows:
            if row.status not in (ImportRow.Status.NEW, ImportRow.Status.UPDATE):
                continue
            try:
                with transaction.atomic():
                    self.write([row])
            except IntegrityError as exc:
                row.error("", "", f"could not be saved: {str(exc).splitlines()[0]}")
                row.status = ImportRow.Status.INVALID

    # --- results ---------------------------------------------------------------------------

    def record(self, rows: list[Row]) -> None:
        if not self.recording:
            return
        counts = self.counts
        entries = []
        preview = [] if self.preview_job is not None else None
        for row in rows:
            status = row.status
            if status == ImportRow.Status.INVALID:
                counts["failed"] += 1
            elif status == ImportRow.Status.NEW:
                counts["created"] += 1
            elif status == ImportRow.Status.UPDATE:
                counts["updated"] += 1
            else:
                counts["skipped"] += 1
                counts["unchanged"] += 1
            if row.errors or row.warnings:
                if len(row.errors) > 1:
                    # In the order of the file's columns, as a person reads the row.
                    position = self.header_index.get
                    row.errors.sort(key=lambda e: position(e[0], -1))
                texts = []
                for column, value, text in row.errors:
                    message = _message(row.number, column, text)
                    texts.append(message)
                    entries.append(
                        dict(
                            row_number=row.number,
                            column=column[:255],
                            value=value,
                            message=message,
                            level="error",
                        )
                    )
                    if len(self.errors_sample) < MAX_SUMMARY_ERRORS:
                        self.errors_sample.append(
                            {
                                "row": row.number,
                                "column": column,
                                "value": jsonable(value),
                                "message": message,
                            }
                        )
                for column, value, text in row.warnings:
                    counts["warnings"] += 1
                    entries.append(
                        dict(
                            row_number=row.number,
                            column=column[:255],
                            value=value,
                            message=_message(row.number, column, text),
                            level="warning",
                        )
                    )
                if row.errors and self.failed is not None:
                    self.failed.add(row.raw, "; ".join(t.split(": ", 1)[-1] for t in texts))
            if preview is not None:
                preview.append(self._preview_row(row))
        self.log.add(entries)
        if preview:
            ImportRow.objects.bulk_create(preview, batch_size=1000)

    def _preview_row(self, row: Row) -> ImportRow:
        # The file's own values; a person's fixes are kept apart in ``edits``.
        raw = (row.extra or {}).get("original", row.raw)
        values = {}
        for i, header in enumerate(self.headers):
            value = raw[i] if i < len(raw) else None
            values[header] = "" if value is None else str(jsonable(value))
        if len(raw) > len(self.headers):
            values["(extra)"] = ", ".join(str(v) for v in raw[len(self.headers) :])
        errors: dict[str, list[str]] = {}
        for column, _, text in row.errors:
            errors.setdefault(column, []).append(text)
        warnings: dict[str, list[str]] = {}
        for column, _, text in row.warnings:
            warnings.setdefault(column, []).append(text)
        changes = {}
        if row.status == ImportRow.Status.UPDATE and row.changes:
            for attname, (old, new) in row.changes.items():
                changes[self._field_name(attname)] = [_display(old), _display(new)]
        edits = self.edits.get(row.number) or {}
        return ImportRow(
            job_id=self.preview_job.pk,
            row_number=row.number,
            status=row.status,
            values=values,
            edits=edits,
            errors=errors,
            warnings=warnings,
            changes=changes,
        )

    def _field_name(self, attname: str) -> str:
        for p in self.plans:
            if p.model_field.attname == attname:
                return p.name
        return attname.removesuffix("_id")

    def finish(self) -> dict[str, Any]:
        c = self.counts
        if self.progress is not None:
            # Only the progress interface (set_total, update, check_cancel) is used: a progress
            # may be the job's, a terminal line around it, or the side connection's.
            if self.total_reported != self.processed:
                # The total was an estimate (or the limit cut the file): now it is known.
                self.total_reported = self.processed
                self.progress.set_total(self.processed)
            self.progress.update(
                processed=self.processed,
                succeeded=c["created"] + c["updated"],
                failed=c["failed"],
                skipped=c["skipped"],
                force=True,
            )
        summary: dict[str, Any] = {
            "resource": self.resource.name,
            "mode": self.settings.mode,
            "on_duplicate": self.settings.on_duplicate,
            "dry_run": self.settings.dry_run,
            "rolled_back": self.rolled_back,
            "total": self.processed,
            "created": 0 if (self.settings.dry_run or self.rolled_back) else c["created"],
            "updated": 0 if (self.settings.dry_run or self.rolled_back) else c["updated"],
            "skipped": c["skipped"],
            "unchanged": c["unchanged"],
            "failed": c["failed"],
            "warnings": c["warnings"],
            "would_create": c["created"],
            "would_update": c["updated"],
            "invalid": c["failed"],
            "unresolved": {f: dict(t) for f, t in self.unresolved.items() if t},
            "references_created": dict(self.references_created),
            "date_formats": self.date_formats,
            "errors": self.errors_sample,
        }
        if self.rolled_back or self.settings.dry_run:
            summary["references_created"] = {}
        summary.update(self.extra_summary())
        return summary

    def extra_summary(self) -> dict[str, Any]:
        return {}


def _relaxed_commit() -> None:
    """PostgreSQL: this batch's commit need not wait for its WAL flush.

    A crash could lose the last fraction of a second of committed batches, never a part of
    one (data and change log commit together, so undo stays exact); in exchange each batch
    stops paying a disk flush. Only for skip-invalid runs, whose batches stand alone anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _display(value: Any) -> Any:
    value = jsonable(value)
    return "" if value is None else value


def _chain_first(first: list, rest: Iterator[list]) -> Iterator[list]:
    if first:
        yield first
    yield from rest


def run_class_for(resource_name: str) -> type[ImportRun]:
    if resource_name == "sales-orders":
        from wizard.engine.orders import OrdersRun

        return OrdersRun
    return ImportRun


_gc_lock = threading.Lock()
_gc_runs = 0
_gc_saved: tuple[int, int, int] | None = None
# Young objects allocated between automatic collections while an import runs (default 700).
IMPORT_GC_THRESHOLD = 50_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Let the cyclic garbage collector run less often while an import runs.

    A batch allocates a few objects per cell (rows, dicts, parsed values), nearly all freed by
    reference counting; with the default threshold the collector still ran every 700
    allocations and cost ~12 % of the importer's CPU. Process-wide, so the first import to
    start raises it and the last to end restores it (Huey may run imports in threads).
    """
    global _gc_runs, _gc_saved
    with _gc_lock:
        if _gc_runs == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(IMPORT_GC_THRESHOLD, _gc_saved[0]), *_gc_saved[1:])
        _gc_runs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_runs -= 1
            if _gc_runs == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


def import_execute(**kwargs) -> dict[str, Any]:
    settings: ImportSettings = kwargs["settings"]
    run = run_class_for(settings.resource.name)(**kwargs)
    try:
        with _fewer_collections():
            summary = run.execute()
    except BaseException:
        spool = run.failed.close() if run.failed is not None else None
        if spool:
            os.unlink(spool)
        raise
    summary["_failed_rows_path"] = run.failed.close() if run.failed is not None else None
    return summary


class RowResult:
    """What re-validating one row found (for a person's fix in the preview)."""

    def __init__(self, row: Row, run: ImportRun):
        self.status = row.status
        self.errors = row.errors
        self.warnings = row.warnings
        self.changes_display = run._preview_row(row).changes if run.preview_job else {}


def row_revalidate(*, job, settings: ImportSettings, headers: Sequence[str], row) -> RowResult:
    """Run one row through the whole pipeline as a dry run: a batch of one."""
    run = run_class_for(settings.resource.name)(
        job=job,
        settings=settings,
        headers=headers,
        source=[row],
        preview_job=job,
        failed_rows=False,
    )
    run.log.add = lambda entries: None  # the preview's log is not the place for a single fix
    rows = next(run.batches())
    run.compile([r.raw for r in rows])
    run.simulate = True
    run.recording = False
    run.process(rows)
    return RowResult(rows[0], run)
