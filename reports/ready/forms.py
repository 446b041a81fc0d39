"""Filter forms of the ready-made reports.

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
from django.contrib.auth import get_user_model

from accounts.models import Membership
from accounts.scoping import scoped
from business.models import AuditEvent, Customer, ProductCategory, SalesOrder, Warehouse
from reports.ready.base import FORMAT_LABELS

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


def _warehouse_choices(organization) -> list[tuple[str, str]]:
    rows = scoped(Warehouse, organization).order_by("code").values_list("code", "name")
    return [ANY] + [(code, f"{code} · {name}") for code, name in rows]


class SalesReportForm(ReportForm):
    date_ranges = (("date_from", "date_to"),)

    date_from = DateField(label="From", required=False)
    date_to = DateField(label="To", required=False)
    warehouse = forms.ChoiceField(label="Warehouse or store", required=False)
    customer = forms.CharField(
        label="Customer code",
        required=False,
        max_length=64,
        help_text="Only this customer's orders; leave empty for all customers.",
    )
    status = forms.MultipleChoiceField(
        label="Status",
        required=False,
        choices=SalesOrder.Status.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every status except cancelled.",
    )

    def setup(self) -> None:
        self.fields["warehouse"].choices = _warehouse_choices(self.organization)
        # Suggestions while typing a customer code; a very large book only offers the first.
        customers = scoped(Customer, self.organization).order_by("code")
        self.datalists = {
            "customer": list(customers.values_list("code", "name")[:CUSTOMER_SUGGESTIONS])
        }
        self.fields["customer"].widget.attrs["list"] = "customer-codes"

    def clean_customer(self) -> str:
        code = self.cleaned_data["customer"].strip()
        if code and not scoped(Customer, self.organization).filter(code=code).exists():
            raise forms.ValidationError(f"No customer with the code '{code}' in this organization.")
        return code


class CustomerAgingReportForm(ReportForm):
    as_of = DateField(
        label="As of",
        required=False,
        help_text="Charges are aged relative to this date; leave empty for today.",
    )
    customer_type = forms.ChoiceField(
        label="Customer type", required=False, choices=[ANY, *Customer.Type.choices]
    )
    credit_status = forms.ChoiceField(
        label="Credit status", required=False, choices=[ANY, *Customer.CreditStatus.choices]
    )
    min_outstanding = DecimalField(
        label="Minimum outstanding balance",
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text="Only customers who owe at least this much.",
    )
    active = forms.ChoiceField(
        label="Active",
        required=False,
        choices=[
            ("", "Active and inactive"),
            ("active", "Active only"),
            ("inactive", "Inactive only"),
        ],
    )


class InventoryValuationReportForm(ReportForm):
    STOCK_STATUS = [
        ANY,
        ("in", "In stock (above reorder level)"),
        ("low", "Low (at or below reorder level)"),
        ("out", "Out of stock (zero or less)"),
    ]

    warehouse = forms.ChoiceField(label="Warehouse or store", required=False)
    category = forms.ChoiceField(
        label="Category", required=False, help_text="Includes its sub-categories."
    )
    stock_status = forms.ChoiceField(label="Stock status", required=False, choices=STOCK_STATUS)
    min_quantity = DecimalField(
        label="Minimum quantity", required=False, max_digits=14, decimal_places=3
    )
    exclude_zero_value = forms.BooleanField(
        label="Leave out items with no value",
        required=False,
        help_text="Items whose quantity or unit cost is zero.",
    )

    def setup(self) -> None:
        self.fields["warehouse"].choices = _warehouse_choices(self.organization)
        names = scoped(ProductCategory, self.organization).order_by("name")
        self.fields["category"].choices = [ANY] + [
            (n, n) for n in names.values_list("name", flat=True)
        ]


class AuditLogReportForm(ReportForm):
    date_ranges = (("date_from", "date_to"),)

    date_from = DateField(label="From", required=False)
    date_to = DateField(label="To", required=False)
    event_type = forms.ChoiceField(
        label="Event type", required=False, choices=[ANY, *AuditEvent.Type.choices]
    )
    user = forms.ChoiceField(label="User", required=False)

    def setup(self) -> None:
        # The organization's members only: a username from elsewhere is not a valid choice.
        user_ids = Membership.objects.filter(organization=self.organization).values("user_id")
        names = (
            get_user_model()
            .objects.filter(pk__in=user_ids)
            .order_by("username")
            .values_list("username", flat=True)
        )
        self.fields["user"].choices = [ANY] + [(n, n) for n in names]


class ReportRunForm(forms.Form):
    """The output format; PDF is offered only with the report's PDF permission."""

    format = forms.ChoiceField(label="Format", widget=forms.RadioSelect, initial="xlsx")

    def __init__(self, data=None, *, pdf_allowed: bool):
        super().__init__(data=data)
        self.pdf_allowed = pdf_allowed
        self.fields["format"].choices = [
            (key, label) for key, label in FORMAT_LABELS.items() if key != "pdf" or pdf_allowed
        ]
