"""Forms of the schedule pages. They shape input; the rules live in services (one place), whose
ScheduleInvalid errors are put back on the fields here."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from reports.schedules.exporters import FORMAT_LABELS, FORMATS
from reports.schedules.models import NotificationSettings, Schedule, ScheduleRun
from reports.schedules.recurrence import ORDINALS, WEEKDAY_NAMES, WEEKDAYS

WEEKDAY_CHOICES = list(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True))
NTH_CHOICES = [(str(n), word.capitalize()) for n, word in ORDINALS.items()]
# Parameters of the exporter's own form are posted with this prefix ("p-date_from").
PARAM_PREFIX = "p"


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=120)
    exporter = forms.ChoiceField(label="Report or export")
    period = forms.ChoiceField(
        label="Period",
        required=False,
        choices=Schedule.Period.choices,
        help_text="Resolved when the schedule runs, in its time zone; fills the report's dates.",
    )
    params_json = forms.CharField(
        label="Filters and columns (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text='For record exports, e.g. {"filters": {"city": "Leeds"}, "columns": ["name"]}.',
    )
    formats = forms.MultipleChoiceField(
        choices=[(f, FORMAT_LABELS[f]) for f in FORMATS],
        widget=forms.CheckboxSelectMultiple,
        help_text="Several formats go out in one e-mail.",
    )
    frequency = forms.ChoiceField(
        label="Repeat",
        choices=Schedule.Frequency.choices,
        initial="weekly",
        widget=forms.RadioSelect,
    )
    weekdays = forms.MultipleChoiceField(
        label="On",
        required=False,
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["MO"],
    )
    monthly_mode = forms.ChoiceField(
        label="Day of the month",
        required=False,
        initial="day",
        choices=[("day", "On day …"), ("last", "On the last day"), ("nth", "On the … weekday")],
        widget=forms.RadioSelect,
    )
    month_day = forms.IntegerField(label="Day", required=False, min_value=1, max_value=31)
    nth = forms.ChoiceField(label="Which", required=False, choices=NTH_CHOICES, initial="2")
    nth_weekday = forms.ChoiceField(
        label="Weekday", required=False, choices=WEEKDAY_CHOICES, initial="TU"
    )
    rrule = forms.CharField(
        label="RRULE",
        required=False,
        max_length=400,
        help_text="RFC 5545, e.g. FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    )
    run_time = forms.TimeField(label="Time of day", widget=forms.TimeInput(attrs={"type": "time"}))
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    recipients = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Besides you (the owner). Separate addresses with commas.",
    )
    cc = forms.CharField(label="CC", required=False, widget=forms.Textarea(attrs={"rows": 1}))
    bcc = forms.CharField(label="BCC", required=False, widget=forms.Textarea(attrs={"rows": 1}))
    subject = forms.CharField(
        required=False,
        max_length=255,
        help_text="Placeholders: {report} {period} {organization} {rows} {schedule} {date}",
    )
    message = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    only_when_rows = forms.BooleanField(label="Only send when the export has rows", required=False)

    def __init__(self, *args, targets: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exporter"].choices = [("", "Choose…")] + [
            (t.identifier, t.name) for t in targets
        ]

    def clean_params_json(self) -> dict:
        text = (self.cleaned_data.get("params_json") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError('Give a JSON object, e.g. {"filters": {}}.')
        return value

    def service_data(self, *, params: dict[str, Any]) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["params"] = params or data.pop("params_json", {}) or {}
        data.pop("params_json", None)
        return data

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            target = {"params": "params_json", "recurrence": "frequency"}.get(field, field)
            if target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)


def schedule_initial(schedule: Schedule) -> dict[str, Any]:
    """The form's initial values for an existing schedule (parsed back from its RRULE)."""
    parts = dict(p.split("=", 1) for p in schedule.rrule.split(";") if "=" in p)
    initial: dict[str, Any] = {
        "name": schedule.name,
        "exporter": schedule.exporter,
        "period": schedule.period,
        "formats": schedule.formats,
        "frequency": schedule.frequency,
        "run_time": schedule.run_time,
        "timezone": schedule.timezone,
        "recipients": ", ".join(schedule.recipients),
        "cc": ", ".join(schedule.cc),
        "bcc": ", ".join(schedule.bcc),
        "subject": schedule.subject,
        "message": schedule.message,
        "only_when_rows": schedule.only_when_rows,
        "rrule": schedule.rrule,
    }
    if schedule.params and "filters" in schedule.params:
        initial["params_json"] = json.dumps(schedule.params)
    byday = parts.get("BYDAY", "")
    if schedule.frequency == "weekly":
        initial["weekdays"] = byday.split(",")
    if schedule.frequency == "monthly":
        if parts.get("BYMONTHDAY") == "-1":
            initial["monthly_mode"] = "last"
        elif byday:
            initial["monthly_mode"] = "nth"
            initial["nth"] = str(int(byday[:-2]))
            initial["nth_weekday"] = byday[-2:]
        else:
            initial["monthly_mode"] = "day"
            initial["month_day"] = parts.get("BYMONTHDAY")
    return initial


class HistoryFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *ScheduleRun.Status.choices]
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class NotificationSettingsForm(forms.Form):
    notify_on = forms.ChoiceField(
        label="Tell the owner and default recipients",
        choices=NotificationSettings.NotifyOn.choices,
    )
    default_recipients = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Receive success/failure notices and the weekly summary. Comma separated.",
    )
    from_name = forms.CharField(label="From name", required=False, max_length=100)
    reply_to = forms.CharField(label="Reply-To", required=False, max_length=254)
    retention_days = forms.IntegerField(label="Keep files for (days)", min_value=1, max_value=3650)
    weekly_summary = forms.BooleanField(label="Send a weekly summary", required=False)
