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
from wizard.engine.validation import MappingError
from wizard.engine.writing import UndoResult, changes_undo

__all__ = [
    "ImportConfigError",
    "ImportRolledBack",
    "ImportRun",
    "ImportSettings",
    "MappingError",
    "RowResult",
    "UndoResult",
    "changes_undo",
    "import_execute",
    "row_revalidate",
    "variant_parent",
]
