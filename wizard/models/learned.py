from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Organization


class LearnedMapping(models.Model):
    """A header → field choice someone in the organization made against Ferry's suggestion.

    Recorded when an import starts (see ``wizard.learning``) and suggested first the next time
    a file with the same header is imported into the same resource, after a template.
    ``field`` is blank when the person chose not to import the column at all.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="learned_mappings"
    )
    resource = models.CharField(max_length=64)
    header_key = models.CharField(max_length=255, help_text="The header, normalised.")
    header = models.CharField(max_length=500, help_text="The header as last seen.")
    field = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField()
    times = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "learned column mapping"
        verbose_name_plural = "learned column mappings"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "resource", "header_key"], name="learned_mapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource}: {self.header} → {self.field or '(not imported)'}"
