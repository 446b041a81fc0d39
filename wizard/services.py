"""Import services: the one API the wizard, the command line and the REST API drive.

A draft import is a pending ``DataJob`` whose params (``ImportParams``, the one typed accessor)
hold everything the run needs; the wizard edits them with ``import_configure``, previews with a
child dry-run job, and ``import_start`` queues the draft itself as the real run, which receives
them as ``ImportSettings``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from business.audit import audit_record
from business.models import AuditEvent
from business.resources import FieldType, UnknownResource, resource_get
from business.writers import Column, writer_for
from jobs.errors import FerryError, LimitExceeded
from jobs.models import DataJob
from jobs.selectors import jobs_holding_slot
from jobs.services import job_cancel, job_create, job_queue
from library.models import DataTemplate
from library.schema import template_usable_check
from library.services import template_mark_used
from wizard.engine import (
    ImportRolledBack,
    UndoPlan,
    UndoResult,
    import_execute,
    row_revalidate,
    run_class_for,
    undo_execute,
    undo_plan,
)
from wizard.engine.params import ImportParams
from wizard.learning import learned_record
from wizard.mapping import (
    mapping_from_suggestions,
    mapping_missing_required,
    mapping_suggest,
    mapping_targets,
)
from wizard.models import ImportChange, ImportRow
from wizard.parsing import EXCEL_DATE_FORMATS
from wizard.readers import FileInfo, ReaderError, ReadOptions, SourceRow, file_inspect, rows_read

Status = DataJob.Status
EXCEL = ("xlsx", "xls", "ods")


class ImportNotAllowed(FerryError):
    pass


class ImportStateError(FerryError):
    pass


# --- helpers ---------------------------------------------------------------------------------


def _resource(name: str):
    try:
        resource = resource_get(name)
    except UnknownResource as exc:
        raise FerryError(str(exc), code="unknown_resource") from None
    if not resource.importable:
        raise ImportNotAllowed(f"{resource.label} cannot be imported.")
    return resource


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


@contextlib.contextmanager
def job_input_path(job: DataJob) -> Iterator[str]:
    """A local path to the job's input file (a temporary copy for remote storage)."""
    f = job.input_file
    try:
        path = f.path
    except NotImplementedError:
        path = None
    if path and os.path.exists(path):
        yield path
        return
    suffix = Path(job.input_filename or f.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with f.storage.open(f.name, "rb") as src:
            shutil.copyfileobj(src, tmp)
        tmp.flush()
        yield tmp.name


def _inspect(job: DataJob, read: dict | None) -> FileInfo:
    with job_input_path(job) as path:
        info = file_inspect(path, options=ReadOptions.from_dict(read))
    limit = django_settings.FERRY["MAX_IMPORT_ROWS"]
    if info.row_estimate is not None and info.row_estimate > limit and info.row_count_exact:
        raise LimitExceeded(
            f"The file has {info.row_estimate:,} data rows; one import may have at most {limit:,}. "
            "Split it into smaller files."
        )
    return info


def _suggest(
    resource, info: FileInfo, template=None, *, organization=None, user=None
) -> dict[str, str]:
    # An orders file may carry its lines: wizard.mapping maps the rest to line fields too.
    return mapping_from_suggestions(
        mapping_suggest(
            resource=resource,
            headers=info.headers,
            sample_rows=info.sample_rows,
            template=template,
            organization=organization,
            user=user,
        )
    )


def _require_draft(job: DataJob) -> None:
    if job.job_type != DataJob.Type.IMPORT:
        raise ImportStateError("This job is not an import.")
    if job.status != Status.PENDING:
        raise ImportStateError(
            "This import has already been started; start a new import to change its settings."
        )


def _missing_required(params: ImportParams) -> None:
    # The same rule as the mapping page's status box (wizard.mapping), so they never disagree.
    missing = mapping_missing_required(
        resource=resource_get(params.resource), mapping=params.mapping, options=params.options
    )
    if missing:
        names = ", ".join(f"'{f.label}'" for f in missing)
        raise FerryError(
            f"Map a column (or set a constant) for the required field{'s' if len(missing) > 1 else ''} "
            f"{names} before importing.",
            code="unmapped_required",
        )


def _concurrency_check(job: DataJob) -> None:
    limit = django_settings.FERRY["MAX_CONCURRENT_IMPORTS"]
    imports = DataJob.objects.filter(
        organization=job.organization, job_type=DataJob.Type.IMPORT
    ).exclude(pk=job.pk)
    active = jobs_holding_slot(imports).count()
    if active >= limit:
        raise LimitExceeded(
            f"Your organization already has {active} imports queued or running, the most at once is "
            f"{limit}. Start this one when one of them has finished."
        )


def _permission_check(job: DataJob) -> None:
    """Tasks check again: the person may have lost the permission since queueing."""
    if job.user is None:
        return
    code = ImportParams.from_job(job).permission or resource_get(job.target).import_permission()
    membership = Membership.objects.filter(user=job.user, organization=job.organization).first()
    if membership is None or not membership.has_perm(code):
        raise ImportNotAllowed(
            f"{job.user} may no longer import {resource_get(job.target).label.lower()} "
            "in this organization."
        )


# --- the API ---------------------------------------------------------------------------------


def import_create(
    *, organization, user, resource: str, file, filename: str, read: dict | None = None
) -> DataJob:
    """Store the upload as a draft import: inspected, with a proposed mapping."""
    resource_cls = _resource(resource)
    limit = django_settings.FERRY["MAX_UPLOAD_BYTES"]
    size = getattr(file, "size", None)
    if size is None:
        with contextlib.suppress(AttributeError, OSError):
            size = os.fstat(file.fileno()).st_size
    if size is not None and size > limit:
        raise LimitExceeded(
            f"The file is {_mb(size)}; the most Ferry accepts is {_mb(limit)}. Split it into smaller files."
        )
    if size == 0:
        raise ReaderError("The file is empty.")
    job = job_create(
        organization=organization,
        user=user,
        job_type=DataJob.Type.IMPORT,
        target=resource_cls.name,
        target_label=str(resource_cls.label),
        params=ImportParams().as_dict(),
        input_file=File(file, name=filename),
        input_filename=Path(filename).name,
    )
    try:
        info = _inspect(job, read)
    except BaseException:
        job_delete_files(job)
        job.delete()
        raise
    job.format = info.format
    ImportParams(
        resource=resource_cls.name,
        mapping=_suggest(resource_cls, info, organization=organization, user=user),
        read=ReadOptions.from_dict(read).as_dict(),
        file_info=info.as_dict(),
        permission=resource_cls.import_permission(),
    ).save(job, also=("format",))
    return job


def job_delete_files(job: DataJob) -> None:
    for f in (job.input_file, job.output_file):
        if f and f.name:
            with contextlib.suppress(OSError):
                f.storage.delete(f.name)


def import_configure(
    *,
    job: DataJob,
    mapping: dict | None = None,
    options: dict | None = None,
    read: dict | None = None,
    on_duplicate: str | None = None,
    mode: str | None = None,
    rules: dict | None = None,
    create_missing: dict | None = None,
    reference_map: dict | None = None,
    template=None,
    limit: int | None = None,
    dry_run: bool | None = None,
    repeats: str | None = None,
    rounding: str | None = None,
    date_formats: dict[str, str] | None = None,
) -> DataJob:
    """Change a draft's settings. Required fields are checked when it starts, not here.

    ``date_formats`` ({field: format}, e.g. {"birth_date": "excel-1900"}) sets the date
    format option of those fields, keeping their other options.
    """
    _require_draft(job)
    old = ImportParams.from_job(job)
    params = ImportParams.from_job(job)
    resource = resource_get(params.resource)
    info = FileInfo.from_dict(params.file_info)
    if read is not None:
        new_read = ReadOptions.from_dict({**params.read, **read}).as_dict()
        if new_read != params.read:
            info = _inspect(job, new_read)
            params.read = new_read
            params.file_info = info.as_dict()
            job.format = info.format
            kept = {h: f for h, f in params.mapping.items() if h in info.headers}
            suggested = _suggest(
                resource,
                info,
                _template_obj(job, params.template_id),
                organization=job.organization,
                user=job.user,
            )
            used = set(kept.values())
            for header, field in suggested.items():
                if header not in kept and field not in used:
                    kept[header] = field
                    used.add(field)
            params.mapping = kept
    if template is not None:
        if isinstance(template, int | str):
            template = _template_obj(job, int(template))
        template_usable_check(template)
        if template.organization_id != job.organization_id or template.resource != resource.name:
            raise FerryError("That template is not an import template for this resource.")
        params.template_id = template.pk
        params.mapping = _suggest(
            resource, info, template, organization=job.organization, user=job.user
        )
        params.options = dict(template.options or {})
        params.rules = dict(template.rules or {})
        params.on_duplicate = template.on_duplicate
        params.mode = template.mode
    if mapping is not None:
        clean = {}
        for header, field in mapping.items():
            if not field:
                continue
            if header not in info.headers:
                raise FerryError(f"The file has no column '{header}'.")
            clean[str(header)] = str(field)
        params.mapping = clean
    for name, value in (
        ("options", options),
        ("rules", rules),
        ("create_missing", create_missing),
        ("reference_map", reference_map),
    ):
        if value is not None:
            setattr(params, name, dict(value))
    if on_duplicate is not None:
        params.on_duplicate = on_duplicate
    if mode is not None:
        params.mode = mode
    if limit is not None:
        params.limit = limit or None
    if dry_run is not None:
        params.dry_run = bool(dry_run)
    if repeats is not None:
        params.repeats = repeats
    if rounding is not None:
        params.rounding = rounding
    if date_formats:
        params.options = _date_formats_set(
            resource, params.options, date_formats, mapping=params.mapping
        )
    # Validate the whole set now so a bad value is refused while configuring.
    params.settings()
    if _preview_affecting(old, params):
        # The stored preview no longer describes what would happen.
        params.preview_job_id = None
    params.save(job, also=("format",))
    return job


def _preview_affecting(old: ImportParams, new: ImportParams) -> bool:
    names = (
        "mapping",
        "options",
        "read",
        "rules",
        "create_missing",
        "reference_map",
        "on_duplicate",
        "repeats",
        "rounding",
    )
    return any(getattr(old, n) != getattr(new, n) for n in names)


def _date_formats_set(
    resource, options: dict, formats: dict[str, str], *, mapping: dict[str, str]
) -> dict[str, dict]:
    """Options with the given date formats set: a field named by its name, its label or the
    file column mapped to it."""
    targets = mapping_targets(resource)
    by_label = {str(f.label).casefold(): f for f in targets.values()}
    by_column = {str(h).casefold(): targets.get(f) for h, f in mapping.items()}
    out = {k: dict(v) for k, v in options.items()}
    for name, fmt in formats.items():
        key = str(name).strip()
        field = targets.get(key) or by_label.get(key.casefold()) or by_column.get(key.casefold())
        if field is None or field.type not in (FieldType.DATE, FieldType.DATETIME):
            dates = ", ".join(
                n for n, f in targets.items() if f.type in (FieldType.DATE, FieldType.DATETIME)
            )
            raise FerryError(
                f"'{name}' is not a date field of {resource.label.lower()}; date formats apply "
                f"to {dates or 'none of its fields'}."
            )
        fmt = str(fmt).strip()
        if fmt not in EXCEL_DATE_FORMATS and "%" not in fmt:
            raise FerryError(
                f"'{fmt}' is not a date format: use excel-1900, excel-1904 or a pattern such as "
                "%d/%m/%Y."
            )
        out.setdefault(field.name, {})["date_format"] = fmt
    return out


def _template_obj(job: DataJob, template_id: int | None):
    if not template_id:
        return None
    try:
        return DataTemplate.objects.get(
            pk=template_id, organization=job.organization, template_type=DataTemplate.Type.IMPORT
        )
    except DataTemplate.DoesNotExist:
        raise FerryError("That template does not exist.") from None


def import_preview_start(*, job: DataJob) -> DataJob:
    """Queue a dry run of the whole draft; its rows land on the draft as ImportRows."""
    from wizard.tasks import import_task

    _require_draft(job)
    params = ImportParams.from_job(job)
    _missing_required(params)
    _concurrency_check(job)
    if params.preview_job_id:
        old = DataJob.objects.filter(pk=params.preview_job_id, organization=job.organization)
        old = old.first()
        if old is not None and old.is_active:
            job_cancel(job=old)
    child = job_create(
        organization=job.organization,
        user=job.user,
        job_type=DataJob.Type.IMPORT,
        target=job.target,
        target_label=job.target_label,
        format=job.format,
        params=params.preview_copy(draft=job).as_dict(),
    )
    # The preview reads the draft's stored file; no copy.
    child.input_file.name = job.input_file.name
    child.input_filename = job.input_filename
    child.save(update_fields=["input_file", "input_filename"])
    ImportParams.update(job, preview_job_id=child.pk)
    job_queue(job=child, task=import_task)
    return child


def import_start(*, job: DataJob) -> DataJob:
    """Queue the real run of a draft (or a dry run when its params say so)."""
    from wizard.tasks import import_task

    _require_draft(job)
    params = ImportParams.from_job(job)
    params.settings()
    _missing_required(params)
    _concurrency_check(job)
    if params.template_id:
        template_mark_used(template=params.template_id, organization=job.organization)
    learned_record(job=job)  # the person's corrections are suggested next time (not dry runs)
    return job_queue(job=job, task=import_task, on_stall=_on_stall(job))


def _on_stall(job: DataJob) -> str:
    """What to do if the worker dies: see ``jobs.services.job_recover``."""
    settings = ImportParams.from_job(job).settings()
    if settings.dry_run:
        return DataJob.OnStall.RERUN
    if settings.mode == "atomic":
        # Its one transaction died with the worker: nothing was written.
        return DataJob.OnStall.FAIL
    if run_class_for(settings.resource).resumable:
        return DataJob.OnStall.RESUME
    return DataJob.OnStall.FAIL


def import_run_now(*, job: DataJob, progress_wrap=None) -> DataJob:
    """Run a draft in this process (the command line), with the same checks as import_start."""
    from jobs.services import job_run

    _require_draft(job)
    params = ImportParams.from_job(job)
    params.settings()
    _missing_required(params)
    _concurrency_check(job)
    learned_record(job=job)

    def work(j, progress):
        return import_run(job=j, progress=progress_wrap(progress) if progress_wrap else progress)

    job_run(job.pk, work)
    job.refresh_from_db()
    return job


def _edits_for(draft: DataJob) -> dict[int, dict[str, Any]]:
    return {
        number: edits
        for number, edits in ImportRow.objects.filter(job=draft)
        .exclude(edits={})
        .values_list("row_number", "edits")
        if edits
    }


def import_run(*, job: DataJob, progress) -> dict:
    """The body of an import: used by the worker task and by the command line in-process."""
    _permission_check(job)
    params = ImportParams.from_job(job)
    settings = params.settings()
    draft = job
    preview_for = params.preview_for
    if preview_for:
        draft = DataJob.objects.filter(pk=preview_for, organization=job.organization).first()
        if draft is None:
            raise ImportStateError("The import this preview was for no longer exists.")
    edits = _edits_for(draft)
    if preview_for:
        ImportRow.objects.filter(job=draft).delete()
    info = FileInfo.from_dict(params.file_info)
    with job_input_path(job) as path:
        source = rows_read(path, options=ReadOptions.from_dict(params.read), info=info)
        summary = import_execute(
            job=job,
            settings=settings,
            headers=info.headers,
            source=source,
            progress=progress,
            row_estimate=info.row_estimate,
            edits=edits,
            preview_job=draft if preview_for else None,
            # Set when the worker of an earlier attempt died: go on from its last batch.
            resume=job.checkpoint if job.on_stall == DataJob.OnStall.RESUME else None,
        )
    spool = summary.pop("_failed_rows_path", None)
    files = {}
    if spool:
        try:
            files["failed-rows"] = _failed_rows_save(job=job, spool=spool, info=info)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(spool)
    if files:
        summary["files"] = {**(job.summary.get("files") or {}), **files}
    if preview_for:
        # The formats this preview guessed are kept for the run; the person's own win.
        known = ImportParams.from_job(draft).date_formats
        ImportParams.update(draft, date_formats={**summary.get("date_formats", {}), **known})
        # The problems panel's sums, made here in the worker so no page view waits for them.
        from wizard.preview_problems import problems_sum  # it imports the wizard's flow

        summary.update(problems_sum(preview=job))
    elif not settings.dry_run:
        audit_record(
            organization=job.organization,
            user=job.user,
            event_type=AuditEvent.Type.IMPORT,
            obj=job,
            details={
                k: summary.get(k)
                for k in (
                    "resource",
                    "mode",
                    "on_duplicate",
                    "total",
                    "created",
                    "updated",
                    "skipped",
                    "failed",
                    "rolled_back",
                )
            },
        )
    if summary.get("rolled_back"):
        # Nothing was written, whatever the progress said while the transaction was open.
        job.succeeded = 0
        job.summary = summary
        DataJob.objects.filter(pk=job.pk).update(summary=summary)
        failed = summary["failed"]
        raise ImportRolledBack(
            f"Nothing was imported: {failed:,} row{'s' if failed != 1 else ''} "
            f"{'have' if failed != 1 else 'has'} errors, and this import was set to all or nothing. "
            "Fix the rows listed in the log, or choose to skip invalid rows.",
            summary,
        )
    return summary


# --- preview edits ---------------------------------------------------------------------------

_COUNT_KEY = {
    ImportRow.Status.NEW: "would_create",
    ImportRow.Status.UPDATE: "would_update",
    ImportRow.Status.UNCHANGED: "unchanged",
    ImportRow.Status.INVALID: "invalid",
    ImportRow.Status.MERGED: "repeats_merged",
}


def import_row_edit(*, job: DataJob, row_number: int, column: str, value: str) -> ImportRow:
    """Fix one cell of a previewed row and re-validate that row at once."""
    _require_draft(job)
    params = ImportParams.from_job(job)
    info = FileInfo.from_dict(params.file_info)
    if column not in info.headers:
        raise FerryError(f"The file has no column '{column}'.")
    try:
        row = ImportRow.objects.get(job=job, row_number=row_number)
    except ImportRow.DoesNotExist:
        raise FerryError(f"Row {row_number} is not in the preview.") from None
    original = row.values.get(column, "")
    edits = dict(row.edits)
    if str(value) == str(original):
        edits.pop(column, None)
    else:
        edits[column] = str(value)
    values = [edits.get(h, row.values.get(h, "")) for h in info.headers]
    settings = params.settings(dry_run=True)
    result = row_revalidate(
        job=job, settings=settings, headers=info.headers, row=SourceRow(row_number, values)
    )
    old_status = row.status
    row.edits = edits
    row.status = result.status
    row.errors = _by_column(result.errors)
    row.warnings = _by_column(result.warnings)
    row.changes = result.changes_display
    row.save(update_fields=["edits", "status", "errors", "warnings", "changes"])
    preview_id = params.preview_job_id
    if preview_id:
        with transaction.atomic():
            preview = DataJob.objects.select_for_update().filter(pk=preview_id).first()
            if preview is not None:
                summary = dict(preview.summary or {})
                if old_status != row.status:
                    summary[_COUNT_KEY[old_status]] = max(
                        0, int(summary.get(_COUNT_KEY[old_status], 0)) - 1
                    )
                    summary[_COUNT_KEY[row.status]] = (
                        int(summary.get(_COUNT_KEY[row.status], 0)) + 1
                    )
                from wizard.preview_problems import problems_edited_note

                preview.summary = problems_edited_note(summary=summary, row_number=row_number)
                preview.save(update_fields=["summary"])
    return row


def _by_column(items) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for column, _, text in items:
        out.setdefault(column, []).append(text)
    return out


# --- undo ------------------------------------------------------------------------------------


def _undoable(job: DataJob) -> None:
    if job.job_type != DataJob.Type.IMPORT:
        raise ImportStateError("This job is not an import.")
    if not job.is_finished:
        raise ImportStateError("An import can be undone once it has finished.")
    if not ImportChange.objects.filter(job=job).exists():
        if (job.summary or {}).get("undo"):
            raise ImportStateError("This import has already been undone.")
        raise ImportStateError("This import wrote nothing, so there is nothing to undo.")


def import_undo_plan(*, job: DataJob, force: bool = False) -> UndoPlan:
    """What undoing the import would do now, by model — the figures the page, API and CLI show.

    Nothing is written. ``import_undo`` carries out exactly this plan (see wizard/engine/undo.py).
    """
    _undoable(job)
    return undo_plan(job=job, force=force)


def import_undo(
    *, job: DataJob, user, force: bool = False, expected: str | None = None
) -> UndoResult:
    """Carry out the undo plan: delete what the import created, restore what it updated.

    ``expected`` is the digest of the plan the person confirmed: if the records changed since,
    nothing is done (UndoPlanChanged) and the new plan must be confirmed.
    """
    _undoable(job)
    result = undo_execute(job=job, force=force, expected=expected)
    summary = dict(job.summary or {})
    undo = dict(summary.get("undo") or {})
    undo.update(
        at=timezone.now().isoformat(),
        by=getattr(user, "pk", None),
        force=force,
        deleted=int(undo.get("deleted", 0)) + result.deleted,
        restored=int(undo.get("restored", 0)) + result.restored,
        skipped_conflicts=result.skipped_conflicts,
        conflicts=result.conflicts,
        by_model=result.as_dict()["by_model"],
    )
    summary["undo"] = undo
    job.summary = summary
    DataJob.objects.filter(pk=job.pk).update(summary=summary)
    audit_record(
        organization=job.organization,
        user=user,
        event_type=AuditEvent.Type.IMPORT_UNDO,
        obj=job,
        details={
            "deleted": result.deleted,
            "restored": result.restored,
            "kept": result.skipped_conflicts,
            "force": force,
            "by_model": {r["model"]: r["delete"] + r["restore"] for r in undo["by_model"]},
        },
    )
    return result


# --- failed rows -----------------------------------------------------------------------------


def failed_rows_file(*, job: DataJob) -> dict | None:
    """The failed-rows file of a finished run: {"name", "filename"}, or None when none failed."""
    return ((job.summary or {}).get("files") or {}).get("failed-rows")


def _failed_rows_save(*, job: DataJob, spool: str, info: FileInfo) -> dict[str, str]:
    """Store the run's failed rows in the file's own format, through the export writers.

    The same writers as exports, so the file is neutralised the same way (a value such as
    ``=cmd|' /C calc'!A0`` is a text cell in XLSX and starts with an apostrophe in CSV, which
    an import drops again), and typed the same way.
    """
    stem = Path(job.input_filename or "import").stem or "import"
    fmt = info.format
    if fmt in EXCEL:
        ext = "xlsx"
    elif fmt in ("json", "jsonl"):
        ext = fmt
    else:
        ext = "csv"
    filename = f"{stem}-failed-rows.{ext}"
    with tempfile.NamedTemporaryFile(suffix=f".{ext}", delete=False) as out:
        out_path = out.name
    options = {}
    if ext == "csv":
        delimiter = info.delimiter or ","
        # The BOM lets Excel read accents; the file's own delimiter keeps it re-importable.
        options = {"delimiter": delimiter, "bom": True}
    try:
        with open(spool, encoding="utf-8", newline="") as src:
            reader = csv.reader(src)
            header = next(reader, [])
            # A row longer than the header keeps its extra cells, in columns of their own
            # before the error (the spool is on disk and holds only the failed rows).
            extra = max((len(row) for row in reader), default=0) - len(header)
            if extra > 0:
                header[-1:-1] = [f"(extra {n})" for n in range(1, extra + 1)]
            src.seek(0)
            next(reader, None)
            width = len(header)
            with writer_for(ext)(
                out_path,
                title=f"Failed rows of {job.input_filename or 'the import'}",
                organization_name=job.organization.name,
                options=options,
            ) as writer:
                writer.section("Failed rows", [Column(name=h, label=h) for h in header])
                # The spool has each row's cells and then its error: short rows are padded so
                # the error stays in its column.
                writer.rows(
                    row if len(row) == width else [*row[:-1], *[""] * (width - len(row)), row[-1]]
                    for row in reader
                )
        with open(out_path, "rb") as fh:
            name = default_storage.save(f"jobs/{job.organization_id}/{job.pk}/{filename}", File(fh))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(out_path)
    return {"name": name, "filename": filename}
