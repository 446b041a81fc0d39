"""Wizard models, one module per idea. Each module's models are re-exported here."""

from wizard.models.changes import ImportChange
from wizard.models.learned import LearnedMapping
from wizard.models.rows import ImportRow

__all__ = ["ImportChange", "ImportRow", "LearnedMapping"]
