from __future__ import annotations

from django import forms

from sync.models import INTERVAL_DEFAULT, INTERVAL_MAX, INTERVAL_MIN


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=100)
    upload = forms.FileField(
        required=False, label="SQLite file", help_text="Upload the shop's database file…"
    )
    path = forms.CharField(
        required=False,
        max_length=500,
        label="…or a file in the sync folder",
        help_text="A path relative to the folder the operator set up (FERRY_SYNC_ROOT).",
    )
    url = forms.CharField(
        required=False,
        max_length=500,
        label="…or a database URL",
        help_text="postgresql://user:password@host/db or mysql://user:password@host/db",
    )
    table = forms.CharField(max_length=128)
    key_column = forms.CharField(max_length=128, label="Key column", initial="reel_number")
    filter_column = forms.CharField(
        max_length=128, required=False, initial="status", label="Available when column"
    )
    filter_value = forms.CharField(
        max_length=200, required=False, initial="In-stock", label="equals"
    )

    def clean(self):
        data = super().clean()
        given = [bool(data.get("upload")), bool(data.get("path")), bool(data.get("url"))]
        if sum(given) != 1:
            raise forms.ValidationError(
                "Give exactly one source: upload a file, a path in the sync folder, or a URL."
            )
        return data


class SettingsForm(forms.Form):
    auto_sync = forms.BooleanField(required=False, label="Sync automatically")
    interval_minutes = forms.IntegerField(
        min_value=INTERVAL_MIN,
        max_value=INTERVAL_MAX,
        initial=INTERVAL_DEFAULT,
        label="Every (minutes)",
    )


class StartForm(forms.Form):
    direction = forms.ChoiceField(
        choices=[("both", "both"), ("import", "import"), ("export", "export")]
    )
    dry_run = forms.BooleanField(required=False)
    keys = forms.CharField(required=False)  # one per line, from the selective import table
