from __future__ import annotations

from django import forms
from django.http import QueryDict

from reports.documents.kinds import DOCUMENTS
from reports.documents.services import MODES


class DocumentsBatchForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, d.name) for k, d in DOCUMENTS.items()])
    mode = forms.ChoiceField(
        choices=[("zip", "One PDF per order, in a ZIP"), ("merged", "One merged PDF")],
        initial=MODES[0],
    )
    scope = forms.ChoiceField(choices=[("selected", "Selected"), ("filtered", "Filtered")])
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    # The records page's query string, as it filters the orders table.
    filters = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the service scopes them to the organization.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == "selected" and not cleaned.get("ids"):
            raise forms.ValidationError("Select at least one order, or print the filtered ones.")
        return cleaned

    def selection(self) -> dict:
        if self.cleaned_data["scope"] == "selected":
            return {"ids": self.cleaned_data["ids"], "filters": None}
        query = QueryDict(self.cleaned_data.get("filters") or "")
        return {"ids": None, "filters": {k: query.get(k) for k in query if query.get(k) != ""}}
