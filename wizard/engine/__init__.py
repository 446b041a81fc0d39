"""The import engine: read → map → parse/validate → match duplicates → write → log."""

from wizard.engine.pipeline import (
    ImportRolledBack,
    ImportRun,
    RowResult,
    import_execute,
    row_revalidate,
    variant_parent,
)
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
    "undo_execute",
    "undo_plan",
    "variant_parent",
]
