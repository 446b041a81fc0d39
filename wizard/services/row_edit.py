"""Preview edits: one cell of a previewed row fixed and that row re-validated at once."""

from __future__ import annotations

from django.db import transaction

from jobs.errors import FerryError
from jobs.models import DataJob
from wizard.engine import row_revalidate
from wizard.engine.params import ImportParams
from wizard.models import ImportRow
from wizard.readers import FileInfo, SourceRow
from wizard.services.draft import _require_draft

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
