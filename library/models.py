from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization


class DataTemplate(models.Model):
    """A saved mapping (import) or column/filter selection (export) for one resource.

    ``mapping`` for imports: {file header: field name}; for exports: {"columns": [...],
    "filters": {...}, "format": "xlsx"}. ``options`` holds per-field options (default when
    blank, value map, date/number format, constant, joined columns). ``rules`` holds extra
    validation rules per field (required, min, max, regex, allowed values, unique in file).
    The shapes are written once, in library/schema.py.
    """

    class Type(models.TextChoices):
        IMPORT = "import", "Import"
        EXPORT = "export", "Export"

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", "Skip existing records"
        UPDATE = "update", "Update existing records"
        CREATE = "create", "Create new records"

    class Mode(models.TextChoices):
        ATOMIC = "atomic", "All or nothing"
        SKIP_INVALID = "skip-invalid", "Skip invalid rows"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    resource = models.CharField(max_length=64)
    template_type = models.CharField(
        "type", max_length=10, choices=Type.choices, default=Type.IMPORT
    )
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    rules = models.JSONField(default=dict, blank=True)
    on_duplicate = models.CharField(
        max_length=10, choices=OnDuplicate.choices, default=OnDuplicate.SKIP
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.SKIP_INVALID)
    # Shared templates are curated by admins for the whole organization; others are personal.
    is_shared = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table was created by the wizard app before the library had its own home; it
        # keeps its name so moving the model moved no data (see the two apps' migrations).
        db_table = "wizard_datatemplate"
        ordering = ["name"]
        verbose_name = "template"
        verbose_name_plural = "templates"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "template_type", "name"], name="datatemplate_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name
