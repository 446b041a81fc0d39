"""What a run reports: counts, the row log, failed rows, preview rows and the summary."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Any

from wizard.engine.problems import problems_collect, rounded_collect
from wizard.engine.sinks import row_message
from wizard.engine.validation import Row
from wizard.engine.writing import jsonable
from wizard.models import ImportRow

MAX_SUMMARY_ERRORS = 100
_STATUS = attrgetter("status")
# The run count each status adds to; any other (unchanged) counts as skipped and unchanged.
_COUNTED = {
    ImportRow.Status.INVALID: "failed",
    ImportRow.Status.NEW: "created",
    ImportRow.Status.UPDATE: "updated",
    ImportRow.Status.MERGED: "merged",
}


class ResultsMixin:
    """The part of ``ImportRun`` that records each batch's outcome and sums the run up."""

    def record(self, rows: list[Row]) -> None:
        if not self.recording:
            return
        counts = self.counts
        # The batch's statuses counted in one pass in C; each row is then only asked whether
        # it has something to say.
        for status, n in Counter(map(_STATUS, rows)).items():
            counted = _COUNTED.get(status)
            if counted is None:
                counts["skipped"] += n
                counts["unchanged"] += n
            else:
                counts[counted] += n
        entries = []
        preview = [] if self.preview_job is not None else None
        for row in rows:
            if row.errors or row.warnings:
                if len(row.errors) > 1:
                    # In the order of the file's columns, as a person reads the row.
                    position = self.header_index.get
                    row.errors.sort(key=lambda e: position(e[0], -1))
                texts = []
                for column, value, text in row.errors:
                    message = row_message(row.number, column, text)
                    texts.append(message)
                    entries.append(
                        dict(
                            row_number=row.number,
                            column=column[:255],
                            value=value,
                            message=message,
                            level="error",
                            # Set for the problems the engine names (parse errors, its own).
                            kind=getattr(text, "kind", "") or None,
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
                            message=row_message(row.number, column, text),
                            level="warning",
                        )
                    )
                if row.errors and self.failed is not None:
                    self.failed.add(
                        row.raw, "; ".join(t.split(": ", 1)[-1] for t in texts), number=row.number
                    )
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
        if row.status in (ImportRow.Status.UPDATE, ImportRow.Status.MERGED) and row.changes:
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
                # Merged repeats write nothing of their own: skipped, for the job's counts.
                skipped=c["skipped"] + c["merged"],
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
            # Rows merged into an earlier row with the same key (identical, or settled by the
            # run's "repeats" choice): no record of their own.
            "merged": c["merged"],
            "unresolved": {f: dict(t) for f, t in self.unresolved.items() if t},
            "references_created": dict(self.references_created),
            "date_formats": self.date_formats,
            "errors": self.errors_sample,
        }
        if self.rolled_back or self.settings.dry_run:
            summary["references_created"] = {}
        identity = getattr(self, "identity", None)
        if identity is not None:
            summary.update(identity.summary())
        plans = [*self.plans, *getattr(self, "line_plans", [])]
        summary["problems"] = problems_collect(plans=plans, excel=getattr(self, "excel_dates", []))
        summary["rounding"] = self.settings.rounding
        summary["rounded"] = rounded_collect(plans)
        summary.update(self.extra_summary())
        return summary

    def extra_summary(self) -> dict[str, Any]:
        return {}


def _display(value: Any) -> Any:
    value = jsonable(value)
    return "" if value is None else value
