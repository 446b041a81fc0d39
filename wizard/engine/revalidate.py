"""Re-checking one row a person fixed in the preview: the whole pipeline on a batch of one."""

from __future__ import annotations

from collections.abc import Sequence

from wizard.engine.run import ImportRun, run_class_for
from wizard.engine.settings import ImportSettings
from wizard.engine.validation import Row


class RowResult:
    """What re-validating one row found (for a person's fix in the preview)."""

    def __init__(self, row: Row, run: ImportRun):
        self.status = row.status
        self.errors = row.errors
        self.warnings = row.warnings
        self.changes_display = run._preview_row(row).changes if run.preview_job else {}


def row_revalidate(*, job, settings: ImportSettings, headers: Sequence[str], row) -> RowResult:
    """Run one row through the whole pipeline as a dry run: a batch of one."""
    run = run_class_for(settings.resource)(
        job=job,
        settings=settings,
        headers=headers,
        source=[row],
        preview_job=job,
        failed_rows=False,
        log_rows=False,  # the preview's log is not the place for a single fix
    )
    rows = next(run.batches())
    run.compile([r.raw for r in rows])
    run.simulate = True
    run.recording = False
    run.process(rows)
    return RowResult(rows[0], run)
