"""Wizard models, one module per idea. Each module's models are re-exported here."""

from wizard.models.templates import DataTemplate

__all__ = ["DataTemplate"]
