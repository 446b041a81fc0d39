"""The import run: read → map → parse/validate → match duplicates → write → log.

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

The run's other parts live beside it: ``checkpoint`` (resume after a dead worker), ``results``
(counts, logs, preview rows, summary), ``sinks`` (row log, failed rows), ``progress`` (the side
connection of an all-or-nothing run), ``variants`` and ``orders`` (declared on the resource).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice, starmap
from typing import Any

from django.conf import settings as django_settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from business.resources import Resource
from jobs.bulk import Staged
from jobs.errors import FerryError, LimitExceeded
from wizard.engine.checkpoint import CheckpointMixin
from wizard.engine.collector import fewer_collections
from wizard.engine.identity import Identity
from wizard.engine.keys import SeenKeys
from wizard.engine.matching import (
    UNRESOLVED_TALLY_LIMIT,
    ReferenceResolver,
    references_lookup,
)
from wizard.engine.pipeline import (
    BatchLog,
    ProcessWriter,
    counts_added,
    counts_minus,
    sqlite_writer_usable,
)
from wizard.engine.problems import excel_date_candidates
from wizard.engine.progress import SideProgress
from wizard.engine.results import ResultsMixin
from wizard.engine.settings import ImportSettings
from wizard.engine.sinks import FailedRows, LogSink, NullLogSink
from wizard.engine.statistics import TableStatistics
from wizard.engine.validation import FieldPlan, Row, date_formats_guess, plans_compile, rows_parse
from wizard.engine.variants import VariantLinker
from wizard.engine.writing import (
    InstanceFactory,
    bulk_update_changed,
    changes_record,
    jsonable,
    relaxed_commits,
)
from wizard.models import ImportRow
from wizard.parsing import EXCEL_DATE_FORMATS, quote

logger = logging.getLogger(__name__)

# FERRY_IMPORT_OVERLAP=0 does everything on the run's thread, one batch after the other: no
# writer process (pipeline.py). For comparing (bench/bench_import.py), or a machine with one
# core.
OVERLAP = os.environ.get("FERRY_IMPORT_OVERLAP", "1") != "0"


class ImportRolledBack(FerryError):
    """An all-or-nothing import found invalid rows: nothing was written."""

    def __init__(self, message: str, summary: dict):
        super().__init__(message, code="rolled_back")
        self.summary = summary


class _Abort(Exception):
    """Leaves the all-or-nothing transaction so it rolls back."""


class ImportRun(CheckpointMixin, ResultsMixin):
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
        log_rows: bool = True,
        resume: dict[str, Any] | None = None,
        overlap: bool | None = None,
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
        self.log = LogSink(job) if log_rows else NullLogSink(job)
        self.failed = FailedRows(self.headers) if failed_rows else None
        self.processed = 0
        self.total_reported: int | None = None
        self.plans: list[FieldPlan] = []
        self.key_plans: list[FieldPlan] = []
        self.date_formats: dict[str, str] = {}
        self.now = timezone.now()
        # Where the run allows it (``overlap_allowed``), each batch is written by a process of
        # its own while the next is prepared (``ProcessWriter``).
        self.overlap = OVERLAP if overlap is None else overlap
        # While batches are written by the writer process: the unresolved keys the batch being
        # prepared tallied, taken back if the database refuses that batch.
        self.tallied: list[tuple[str, str]] | None = None
        # Analyzed when its statistics would send the key lookups down another index.
        self.statistics = TableStatistics(self.model, self.organization.pk)

    # --- set-up ----------------------------------------------------------------------------

    def compile(self, sample: Sequence[Sequence[Any]]) -> None:
        s = self.settings
        fixed = {
            name: opts["date_format"] for name, opts in s.options.items() if opts.get("date_format")
        }
        # Earlier previews' guesses; never Excel numbers, which are read as dates only while
        # the option says so (a person can take that back).
        fixed.update(
            {
                k: v
                for k, v in s.date_formats.items()
                if k not in fixed and v not in EXCEL_DATE_FORMATS
            }
        )
        plans = self._plans_for(self.resource, {})
        self.date_formats, warnings = date_formats_guess(plans=plans, rows=sample, fixed=fixed)
        for column, text in warnings:
            if self.resume:
                break  # logged and counted by the run this one resumes
            self.counts["warnings"] += 1
            self.log.add(
                [dict(row_number=None, column=column, value="", message=text, level="warning")]
            )
        # Offered, never applied unasked: a person says whether 29358 is a date.
        self.excel_dates = excel_date_candidates(plans=plans, rows=sample, fixed=fixed)
        self.plans = self._plans_for(self.resource, self.date_formats)
        self.key_plans = [p for p in self.plans if p.is_key]
        self.identity = Identity(self, self.plans)
        self.mapped_attnames = [p.model_field.attname for p in self.plans]
        self.unique_plans = [p for p in self.plans if (s.rules.get(p.name) or {}).get("unique")]
        self.variants = VariantLinker.for_run(self, self.plans)
        if self.variants is not None:
            self.mapped_attnames.append(self.variants.parent_attname)
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
            rounding=s.rounding,
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
            if self.tallied is not None:
                self.tallied.append((field, value))

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
            if self.edits:
                yield [self._row(sr) for sr in chunk]
            else:  # the usual run: (number, values) pairs made rows in one C loop
                yield list(starmap(Row, chunk))

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
        # The first batch is held only until it is processed, not for the whole run.
        all_batches = _chain_first([first], batches)
        del first
        if self.resume:
            all_batches = self._resume_skip(all_batches)
        self._execute(all_batches)
        return self.finish()

    def _execute(self, all_batches: Iterator[list[Row]]) -> None:
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
        elif self.overlap_allowed():
            self._execute_overlapped(all_batches)
        else:
            for batch in all_batches:
                self._batch(batch)
                del batch  # not held while the next one is read

    def overlap_allowed(self) -> bool:
        """Whether batches may be written by the writer process (pipeline.py) while the next
        is prepared: only where preparing a batch needs nothing of an earlier batch's writes
        but what this run keeps in memory, and the run has its own transactions."""
        if not (self.overlap and self.checkpointing and type(self) is ImportRun):
            return False
        if connection.vendor == "sqlite" and not sqlite_writer_usable():
            return False
        if connection.in_atomic_block:
            return False  # inside someone else's transaction (tests): one connection only
        if self.identity.policy == "last" or self.variants is not None:
            return False  # a later row updates a record an earlier batch created
        for plan in self.plans:
            ref = plan.field.ref if plan.is_ref else None
            if ref is None:
                continue
            if ref.resource == self.resource.name:
                return False  # rows refer to records earlier batches create
            if ref.creatable and self.settings.create_missing.get(plan.field.name):
                return False  # created references belong to their batch's transaction
        return True

    def _execute_overlapped(self, batches: Iterator[list[Row]]) -> None:
        """Each batch prepared here while the one before is written by the writer process.

        Per batch, in this order: prepare N+1 (reads) | the writer writes N → N's outcome →
        record N (counts, row log, failed rows) → N's row log and checkpoint commit with it.
        If reading or preparing N+1 fails (a reading error, the row limit, a cancel), N is
        still committed first, as it would be one batch after the other.
        """
        writer = ProcessWriter(self)
        sink, self.log = self.log, BatchLog()
        pending = None  # (rows, what preparing them added to counts, unresolved keys tallied)
        try:
            batches = iter(batches)
            while True:
                counts_before = Counter(self.counts)
                self.tallied = []
                try:
                    rows = next(batches, None)
                    if rows is None:
                        break
                    if self.progress is not None:
                        self.progress.check_cancel()
                    self.statistics.refresh(self.counts["created"])
                    plan = self.prepare_stage(rows)
                except BaseException:
                    if pending is not None:
                        partial = (None, counts_added(counts_before, self.counts), self.tallied)
                        self._hand_over(writer, pending, partial)
                        pending = None
                    writer.close()
                    raise
                finally:
                    tallied, self.tallied = self.tallied, None
                prepared = (rows, counts_added(counts_before, self.counts), tallied)
                if pending is not None:
                    self._hand_over(writer, pending, prepared)
                writer.write(rows, plan)
                pending = prepared
            if pending is not None:
                self._hand_over(writer, pending, None)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            self.log = sink

    def _hand_over(self, writer: ProcessWriter, pending: tuple, prepared: tuple | None) -> None:
        """Batch ``pending`` is written: record it and give the writer what commits with it.
        ``prepared``: the next batch, prepared meanwhile, whose counts are not this one's."""
        rows, _, tallied = pending
        if writer.written():
            # As in ``write_guarded``: the unresolved keys of a refused batch are not counted.
            _untally(self.unresolved, tallied)
        self.identity.after(rows)
        self.record(rows)
        self.processed += len(rows)
        counts, unresolved = self.counts, self.unresolved
        if prepared is not None:
            counts = counts_minus(self.counts, prepared[1])
            unresolved = defaultdict(Counter, {f: Counter(t) for f, t in self.unresolved.items()})
            _untally(unresolved, prepared[2])
        writer.finish(
            entries=self.log.take(),
            checkpoint=self.checkpoint_state(rows, counts=counts, unresolved=unresolved),
        )

    def _batch(self, rows: list[Row]) -> None:
        if self.progress is not None:
            self.progress.check_cancel()
        self.now = timezone.now()
        self.statistics.refresh(self.counts["created"])
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
                skipped=c["skipped"] + c["merged"],
            )

    # --- one batch -------------------------------------------------------------------------

    def prepare_stage(self, rows: list[Row]) -> WritePlan:
        """What the run's thread does for a batch the writer process will write: parse, keys,
        references and existing records (reads only), then everything of the write that
        needs no database (``WritePlan``: the new records' keys reserved and, on PostgreSQL,
        their rows in COPY's format; the updated records and their change log's values)."""
        self.parse(rows)
        self.keys_check(rows)
        self.prepare(rows)
        now = timezone.now()
        plan = self.write_plan(rows, now=now)
        plan.staged = self.factory.stage([r.values for r in plan.new], now=now)
        return plan

    def parse(self, rows: list[Row]) -> None:
        rows_parse(self.plans, rows, self.width)

    def process(self, rows: list[Row]) -> None:
        self.parse(rows)
        self.keys_check(rows)
        if self.simulate:
            self.prepare(rows)
            self.identity.after(rows)
            self.record(rows)
            return

        def work() -> None:
            self.prepare(rows)  # may create missing references: they belong to this batch
            if self.atomic:
                self.write(rows)
                return
            relaxed_commits()
            self.write_fallback(rows)

        self.write_guarded(rows, work)
        self.identity.after(rows)
        self.record(rows)

    def write_fallback(self, rows: list[Row], plan: WritePlan | None = None) -> None:
        """A skip-invalid batch's writes; if someone wrote the same keys meanwhile, one row at
        a time to find the rows that clash (the others are written). Each way in a savepoint
        of its own, so that a refusal of the database undoes only this batch's writes."""
        try:
            with transaction.atomic():
                self.write(rows, plan)
        except IntegrityError:
            self.write_one_by_one(rows)

    def prepare(self, rows: list[Row]) -> None:
        """References resolved (missing ones created unless simulating), rows classified."""
        self.resolver.resolve(rows)
        if self.variants is not None:
            self.variants.link(rows)
        self.classify(rows)
        self.identity.settle(rows)

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
            self.references_created, parents, unresolved = saved
            self.counts["parents_created"] = parents
            self.unresolved = defaultdict(Counter, unresolved)
            # Records the savepoint took back may be remembered by key: forget them.
            for resolver in (self.resolver, getattr(self, "line_resolver", None)):
                if resolver is not None:
                    resolver.cache.clear()
            self.batch_refused(rows, exc)

    def batch_refused(self, rows: list[Row], exc: DatabaseError) -> None:
        """Every row of a batch the database refused fails with its reason (logged)."""
        logger.warning("import job %s: a batch was refused by the database: %s", self.job.pk, exc)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        for row in rows:
            if row.status in (ImportRow.Status.NEW, ImportRow.Status.UPDATE) or (
                not row.status and not row.errors
            ):
                row.error("", "", f"could not be saved: {reason}")
            if row.errors:
                row.status = ImportRow.Status.INVALID
            row.obj = None

    def keys_check(self, rows: list[Row], *, replay: bool = False) -> None:
        """Keys, numbers and repeats of the natural key (see ``Identity``), and in-file
        duplicates of fields with a 'unique' rule."""
        self.identity.check(rows, replay=replay)
        if not self.unique_plans:  # the common case: no pass over the rows at all
            return
        for row in rows:
            if row.errors or row.status == ImportRow.Status.MERGED:
                continue
            values = row.values
            for plan in self.unique_plans:
                value = values.get(plan.attname)
                if value is None or value == "":
                    continue
                if not self.unique_seen[plan.name].add((value,)):
                    row.error(
                        plan.column,
                        value,
                        f"{quote(value)} appears more than once in this file (must be unique)",
                        "duplicate_in_file",
                    )

    def _column(self, name: str) -> str:
        for p in self.plans:
            if p.name == name:
                return p.column
        return name

    def classify(self, rows: list[Row]) -> None:
        """new / update / unchanged / invalid, against the existing records (one query)."""
        self.identity.existing(rows, self.mapped_attnames)
        policy = self.settings.on_duplicate
        attnames = self.mapped_attnames
        # The statuses read once a batch, not per row.
        status = ImportRow.Status
        invalid, merged, created = status.INVALID, status.MERGED, status.NEW
        unchanged, update = status.UNCHANGED, status.UPDATE
        for row in rows:
            if row.errors:
                row.status = invalid
                continue
            if row.status == merged:
                continue
            obj = row.existing
            if obj is None:
                row.status = created
                continue
            if row.extra and row.extra.get("repeat_last"):
                row.status = unchanged  # settled by the identity
                continue
            if policy == "create":
                plan = self.key_plans[0]
                row.error(
                    plan.column,
                    row.values.get(plan.attname),
                    f"a {self.model._meta.verbose_name} with this {plan.field.label.lower()} already "
                    "exists, and it must be unique, so a new one cannot be created (choose skip or update)",
                    "exists",
                )
                row.status = invalid
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
            row.status = unchanged if policy == "skip" or not changes else update

    @staticmethod
    def _keys(rows: list[Row], attnames: list[str]) -> list[tuple]:
        if len(attnames) == 1:
            a = attnames[0]
            return [(r.values.get(a),) for r in rows]
        return [tuple(r.values.get(a) for a in attnames) for r in rows]

    def write(self, rows: list[Row], plan: WritePlan | None = None) -> None:
        """``plan``: the batch's writes made ready by ``prepare_stage``."""
        if plan is None:
            plan = self.write_plan(rows, now=self.now)
        new = plan.new
        if new:
            ids = self.factory.insert([r.values for r in new], now=self.now, staged=plan.staged)
            for row, pk in zip(new, ids, strict=True):
                row.obj = pk
            self.pending_fix(new)
            changes_record(job_id=self.job.pk, resource=self.resource.name, created=ids)
        if plan.updated:
            bulk_update_changed(self.model, plan.updated, plan.used)
            changes_record(job_id=self.job.pk, resource=self.resource.name, updated=plan.logged)
        self.identity.write(rows)

    def write_plan(self, rows: list[Row], *, now) -> WritePlan:
        """What ``write`` sends for ``rows``, made ready without the database: the new rows,
        the existing records with their changes set (``updated_at`` = ``now``), and the
        change log's old and new values of each."""
        new_status, update_status = ImportRow.Status.NEW, ImportRow.Status.UPDATE
        plan = WritePlan(new=[r for r in rows if r.status == new_status])
        for row in rows:
            if row.status != update_status:
                continue
            obj = row.existing
            before, after = {}, {}
            for attname, (old, new) in row.changes.items():
                setattr(obj, attname, new)
                before[attname] = jsonable(old)
                after[attname] = jsonable(new)
            obj._ferry_changed = set(row.changes)
            plan.used |= obj._ferry_changed
            obj.updated_at = now
            plan.updated.append(obj)
            plan.logged.append((obj.pk, before, after))
        return plan

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
        """The batch a row at a time, after its writes clashed with someone else's, in a
        savepoint of its own: a row that clashes again fails alone."""
        with transaction.atomic():
            # Re-read the duplicates: the clash means the database changed under us (so the keys
            # read at the start no longer say which records exist).
            self.identity.present_trusted = False
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


@dataclasses.dataclass
class WritePlan:
    """A batch's writes made ready (``ImportRun.write_plan``); ``staged``: its new records'
    (``prepare_stage``)."""

    new: list[Row]
    updated: list = dataclasses.field(default_factory=list)
    used: set[str] = dataclasses.field(default_factory=set)
    logged: list[tuple[int, dict, dict]] = dataclasses.field(default_factory=list)
    staged: Staged | None = None


def _untally(unresolved: dict[str, Counter], tallied: list[tuple[str, str]]) -> None:
    """Take back the unresolved keys a batch tallied (``ImportRun.tallied``)."""
    for field, value in tallied:
        tally = unresolved[field]
        tally[value] -= 1
        if tally[value] <= 0:
            del tally[value]


def _chain_first(holder: list[list], rest: Iterator[list]) -> Iterator[list]:
    first = holder.pop()
    if first:
        yield first
    del first  # the batch goes when the run is done with it, not when the file is
    yield from rest


def run_class_for(resource: type[Resource]) -> type[ImportRun]:
    """The run a resource needs: one that carries lines (``line_resource``) groups them under
    their records; any other runs row by row."""
    if resource.line_resource:
        from wizard.engine.orders import OrdersRun

        return OrdersRun
    return ImportRun


def import_execute(**kwargs) -> dict[str, Any]:
    settings: ImportSettings = kwargs["settings"]
    run = run_class_for(settings.resource)(**kwargs)
    try:
        with fewer_collections():
            summary = run.execute()
    except BaseException:
        spool = run.failed.close() if run.failed is not None else None
        if spool:
            os.unlink(spool)
        raise
    summary["_failed_rows_path"] = run.failed.close() if run.failed is not None else None
    return summary
