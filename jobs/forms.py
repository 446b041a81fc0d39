from __future__ import annotations

from django import forms

from jobs.models import JobLogEntry


class LogLevelForm(forms.Form):
    """The row log's level filter on the job page (GET)."""

    level = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "All levels"), *JobLogEntry.Level.choices],
    )

    def selected_level(self) -> str:
        return self.cleaned_data.get("level", "") if self.is_valid() else ""
