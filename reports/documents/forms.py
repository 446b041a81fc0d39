from __future__ import annotations

from django import forms
from django.http import QueryDict

FORMAT_CHOICES = [("zip", "One PDF per order, in a ZIP"), ("pdf", "One merged PDF")]


class DocumentParamsForm(forms.Form):
    """Which orders a document exporter prints: a selection of ids, or the records page's
    filters, narrowed by an order-date range (what a schedule's relative period fills in)."""

    ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, help_text="Order ids; without them, every order that matches."
    )
    filters = forms.JSONField(
        required=False, help_text='Sales-order filters as on the records page: {"status": "…"}.'
    )
    date_from = forms.DateField(required=False, label="Order date from")
    date_to = forms.DateField(required=False, label="Order date to")

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        # Any id is acceptable here; the selection is scoped to the organization.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()

    def clean_filters(self):
        filters = self.cleaned_data.get("filters") or {}
        if not isinstance(filters, dict):
            raise forms.ValidationError("Filters must be an object of name → value.")
        return {str(k): v for k, v in filters.items() if v not in ("", None)}

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", "The end date is before the start date.")
        if self.organization is not None and not self.errors:
            from reports.documents.selectors import DocumentOrdersInvalid, documents_orders

            try:  # a misspelt filter is refused, not ignored (it would print more orders)
                documents_orders(organization=self.organization, **self.params())
            except DocumentOrdersInvalid as exc:
                self.add_error("filters", exc.message)
        return cleaned

    def params(self) -> dict:
        data = self.cleaned_data
        ids = data.get("ids")
        return {
            "ids": sorted(set(ids)) if ids else None,
            "filters": data.get("filters") or {},
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
        }

    def describe(self) -> list[str]:
        from business.filters import filters_active
        from business.resources import resource_get

        params = self.params()
        lines = []
        if params["ids"]:
            lines.append(f"Orders: {len(params['ids']):,} selected")
        for item in filters_active(resource=resource_get("sales-orders"), data=params["filters"]):
            lines.append(f"{item['label']}: {item['value']}")
        if params["date_from"] or params["date_to"]:
            lines.append(f"Order date: {params['date_from'] or '…'} to {params['date_to'] or '…'}")
        return lines


class DocumentsBatchForm(forms.Form):
    """The records page's batch panel: which kind, how delivered, selected or filtered orders."""

    kind = forms.ChoiceField()
    format = forms.ChoiceField(choices=FORMAT_CHOICES, initial="zip")
    scope = forms.ChoiceField(choices=[("selected", "Selected"), ("filtered", "Filtered")])
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    # The records page's query string, as it filters the orders table.
    filters = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        from reports.documents.kinds import documents_all

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(d.identifier, d.name) for d in documents_all()]
        # Any id is acceptable here; the service scopes them to the organization.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == "selected" and not cleaned.get("ids"):
            raise forms.ValidationError("Select at least one order, or print the filtered ones.")
        return cleaned

    def params(self) -> dict:
        """The document exporter's parameters (``DocumentParamsForm``)."""
        if self.cleaned_data["scope"] == "selected":
            return {"ids": self.cleaned_data["ids"]}
        query = QueryDict(self.cleaned_data.get("filters") or "")
        return {"filters": {k: query.get(k) for k in query if query.get(k) != ""}}
