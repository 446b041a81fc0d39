"""What the ready-made reports' filter forms share (each report module declares its own form).

A form validates what a person (or the API, or the CLI) asked for against the organization's
own records and turns it into JSON-safe parameters: dates as ISO strings, decimals as strings,
related records by their natural key (warehouse code, customer code, category name, username).
Those parameters are stored on the job and validated again by the same form when the job runs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from accounts.scoping import scoped
from business.models import Warehouse
from reports.exporters import FORMAT_LABELS

ANY = ("", "Any")
CUSTOMER_SUGGESTIONS = 500


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateField(forms.DateField):
    """A date as YYYY-MM-DD; the message names the value that was given."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DateInput)
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2026-01-31.", code="invalid"
            ) from exc


class DecimalField(forms.DecimalField):
    """A number; the message names the value that was given."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            if exc.code != "invalid":
                raise
            raise forms.ValidationError(
                f"'{value}' is not a number; use digits with a '.' for decimals, e.g. 1250.50.",
                code="invalid",
            ) from exc


class ReportForm(forms.Form):
    """Base form: knows its organization, produces JSON-safe params and a readable summary."""

    # Pairs of (from, to) date fields validated as a range.
    date_ranges: tuple[tuple[str, str], ...] = ()

    def __init__(self, *, organization, data=None, initial=None):
        super().__init__(data=data, initial=initial)
        self.organization = organization
        self.setup()

    def setup(self) -> None:
        """Fill choices from the organization's records."""

    def full_clean(self) -> None:
        super().full_clean()
        # Screen readers announce the field as invalid and read its message with it.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_error"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for start, end in self.date_ranges:
            a, b = cleaned.get(start), cleaned.get(end)
            if a and b and a > b:
                self.add_error(
                    end,
                    f"The end date {b.isoformat()} is before the start date {a.isoformat()}.",
                )
        return cleaned

    def params(self) -> dict[str, Any]:
        """The cleaned values as JSON-safe parameters (empty filters left out)."""
        out: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if value is None or value == "" or value == [] or value is False:
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = format(value, "f")
            out[name] = value
        return out

    def describe(self) -> list[str]:
        """The filters in words, for the report's header ("Warehouse: WH1 Main store")."""
        lines: list[str] = []
        for name, value in self.cleaned_data.items():
            if value is None or value == "" or value == [] or value is False:
                continue
            field = self.fields[name]
            if isinstance(field, forms.MultipleChoiceField):
                labels = dict(field.choices)
                text = ", ".join(str(labels.get(v, v)) for v in value)
            elif isinstance(field, forms.ChoiceField):
                text = str(dict(field.choices).get(value, value))
            elif value is True:
                text = "Yes"
            elif isinstance(value, dt.date):
                text = value.isoformat()
            else:
                text = str(value)
            lines.append(f"{field.label}: {text}")
        return lines


def warehouse_choices(organization) -> list[tuple[str, str]]:
    rows = scoped(Warehouse, organization).order_by("code").values_list("code", "name")
    return [ANY] + [(code, f"{code} · {name}") for code, name in rows]


class ReportRunForm(forms.Form):
    """The output format; PDF is offered only with the report's PDF permission."""

    format = forms.ChoiceField(label="Format", widget=forms.RadioSelect, initial="xlsx")

    def __init__(self, data=None, *, pdf_allowed: bool):
        super().__init__(data=data)
        self.pdf_allowed = pdf_allowed
        self.fields["format"].choices = [
            (key, label) for key, label in FORMAT_LABELS.items() if key != "pdf" or pdf_allowed
        ]
