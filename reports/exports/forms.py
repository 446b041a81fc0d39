"""Forms of the export builder. The filters come from the resource's generated FilterSet."""

from __future__ import annotations

from django import forms

from business.resources import Resource
from business.writers import FORMATS
from jobs.fast_widgets import fast_widget_renderer

DELIMITERS = [(",", "Comma ( , )"), (";", "Semicolon ( ; )"), ("tab", "Tab"), ("|", "Pipe ( | )")]


class ExportForm(forms.Form):
    """Resource, columns (in the submitted order), format and the CSV options."""

    # Its choice lists written without a template per option (jobs/fast_widgets.py).
    default_renderer = fast_widget_renderer

    resource = forms.ChoiceField(label="Records")
    columns = forms.MultipleChoiceField(
        label="Columns", required=False, widget=forms.CheckboxSelectMultiple
    )
    format = forms.ChoiceField(label="Format", widget=forms.RadioSelect)
    delimiter = forms.ChoiceField(label="CSV delimiter", choices=DELIMITERS, initial=",")
    bom = forms.BooleanField(
        label="Add a byte-order mark (helps Excel read accents in CSV)", required=False
    )
    choice_codes = forms.BooleanField(
        label="Write choices as codes (invoiced) instead of labels (Invoiced)",
        required=False,
        help_text="Codes suit another program; Ferry's own import reads either.",
    )

    def __init__(
        self,
        *args,
        resources: list[type[Resource]],
        resource: type[Resource] | None,
        formats: list[str],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [(r.name, r.label) for r in resources]
        if resource is not None:
            self.fields["columns"].choices = [(f.name, f.label) for f in resource.fields]
        self.fields["format"].choices = [(f, FORMATS[f]) for f in formats]

    def options(self) -> dict:
        return {
            "delimiter": self.cleaned_data["delimiter"],
            "bom": self.cleaned_data["bom"],
            "choice_codes": self.cleaned_data["choice_codes"],
        }


class ExportTemplateForm(forms.Form):
    template_name = forms.CharField(label="Template name", max_length=200)
    description = forms.CharField(label="Description", max_length=500, required=False)
    is_shared = forms.BooleanField(label="Share with the whole organization", required=False)

    def clean_template_name(self) -> str:
        name = self.cleaned_data["template_name"].strip()
        if not name:
            raise forms.ValidationError("Give the template a name.")
        return name
