"""The import engine: read → map → parse/validate → match duplicates → write → log."""

from wizard.engine.revalidate import RowResult, row_revalidate
from wizard.engine.run import ImportRolledBack, ImportRun, import_execute, run_class_for
from wizard.engine.settings import ImportConfigError, ImportSettings
from wizard.engine.undo import UndoPlan, UndoPlanChanged, UndoResult, undo_execute, undo_plan
from wizard.engine.validation import MappingError

__all__ = [
    "ImportConfigError",
    "ImportRolledBack",
    "ImportRun",
    "ImportSettings",
    "MappingError",
    "RowResult",
    "UndoPlan",
    "UndoPlanChanged",
    "UndoResult",
    "import_execute",
    "row_revalidate",
    "run_class_for",
    "undo_execute",
    "undo_plan",
]
