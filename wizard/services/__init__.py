"""Import services: the one API the wizard, the command line and the REST API drive.

One idea a module: the draft's life (draft.py), the run (run.py), preview edits (row_edit.py),
failed rows (failed_rows.py) and undo (undo.py). Callers import from ``wizard.services``.
"""

from wizard.services.draft import (
    ImportNotAllowed,
    ImportStateError,
    import_configure,
    import_create,
    job_delete_files,
    job_input_path,
)
from wizard.services.failed_rows import failed_rows_file
from wizard.services.row_edit import import_row_edit
from wizard.services.run import import_preview_start, import_run, import_run_now, import_start
from wizard.services.undo import import_undo, import_undo_plan

__all__ = [
    "ImportNotAllowed",
    "ImportStateError",
    "failed_rows_file",
    "import_configure",
    "import_create",
    "import_preview_start",
    "import_row_edit",
    "import_run",
    "import_run_now",
    "import_start",
    "import_undo",
    "import_undo_plan",
    "job_delete_files",
    "job_input_path",
]
