"""Forms of the template library. They validate what a person typed; library.services acts."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from business.resources import UnknownResource, resource_get, resources_for
from library.fields import FieldSettings, field_cards
from library.models import DataTemplate
from library.schema import TemplateShapeError, template_validate


class TemplateSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "All")] + DataTemplate.Type.choices
    )


def _json_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}),
    )


class TemplateForm(forms.ModelForm):
    """Edit a template. An import template's mapping is edited row by row (``map_*``) and its
    options and rules field by field (``f-<field>-*``, library/fields.py); an export
    template's columns and filters as JSON."""

    mapping_json = _json_field(
        "Columns and filters", 'JSON, e.g. {"columns": ["email", "first_name"], "format": "xlsx"}.'
    )

    class Meta:
        model = DataTemplate
        fields = [
            "name",
            "description",
            "resource",
            "on_duplicate",
            "mode",
            "is_active",
            "is_shared",
        ]
        labels = {
            "is_active": "Active (offered in the wizard)",
            "is_shared": "Shared with the whole organization",
            "on_duplicate": "When a record already exists",
            "mode": "When a row is invalid",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, membership, can_share: bool, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.is_export = instance.template_type == DataTemplate.Type.EXPORT
        action = "export" if self.is_export else "import"
        resources = [(r.name, r.label) for r in resources_for(membership, action)]
        if instance.resource and instance.resource not in {r for r, _ in resources}:
            resources.insert(0, (instance.resource, instance.resource))
        self.fields["resource"] = forms.ChoiceField(label="Resource", choices=resources)
        if not can_share:
            del self.fields["is_shared"]
        if self.is_export:
            self.fields["mapping_json"].initial = json.dumps(instance.mapping or {}, indent=2)
            del self.fields["on_duplicate"]
            del self.fields["mode"]
        else:
            del self.fields["mapping_json"]
        self.mapping_rows = self._mapping_rows()
        self.cards = [] if self.is_export else self._cards()

    def _cards(self) -> list[FieldSettings]:
        stored = template_field_cards(self.instance)
        if not self.is_bound:
            return stored
        return [FieldSettings.posted(self.data, base=card) for card in stored]

    def _mapping_rows(self) -> list[dict[str, str]]:
        if self.is_export:
            return []
        if self.is_bound:
            rows = []
            for index in range(200):
                key = f"map_header_{index}"
                if key not in self.data:
                    break
                rows.append(
                    {
                        "header": self.data.get(key, ""),
                        "field": self.data.get(f"map_field_{index}", ""),
                    }
                )
        else:
            mapping = self.instance.mapping if isinstance(self.instance.mapping, dict) else {}
            rows = [
                {"header": str(h), "field": f if isinstance(f, str) else ""}
                for h, f in mapping.items()
            ]
        rows += [{"header": "", "field": ""} for _ in range(3)]
        return rows

    def _load_json(self, key: str, *, want=dict):
        text = (self.cleaned_data.get(key) or "").strip()
        if not text:
            return want()
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"This is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc
        if not isinstance(value, want):
            raise forms.ValidationError("Write a JSON object: { … }.")
        return value

    def clean_mapping_json(self):
        return self._load_json("mapping_json")

    def clean(self):
        data = super().clean()
        if self.is_export:
            data["mapping"] = data.get("mapping_json") or {}
            return data
        mapping: dict[str, str] = {}
        for row in self.mapping_rows:
            header = (row["header"] or "").strip()
            if header:
                if header in mapping:
                    self.add_error(None, f"The column '{header}' is listed twice in the mapping.")
                mapping[header] = row["field"] or ""
        data["mapping"] = mapping
        data["options"] = {c.name: c.options() for c in self.cards if c.options()}
        data["rules"] = {c.name: c.rules() for c in self.cards if c.rules()}
        try:
            template_validate(
                template_type=DataTemplate.Type.IMPORT,
                mapping=mapping,
                options=data["options"],
                rules=data["rules"],
            )
        except TemplateShapeError as exc:
            self.card_error(exc.key, exc.message)
        return data

    def card_error(self, key: str, message: str) -> None:
        """Show a problem on the field's card, and say so at the top of the form."""
        card = next((c for c in self.cards if c.name == key), None)
        if card is None:
            self.add_error(None, message)
            return
        card.errors.append(message)
        self.add_error(None, f"Check the settings of “{card.label}”: {message}")

    def field_for(self, part: str) -> str | None:
        """The form field showing a service error about ``part`` (None: the whole form)."""
        name = "mapping_json" if part == "mapping" else part
        return name if name in self.fields else None

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        result = {k: data[k] for k in self.Meta.fields if k in self.fields}
        result["mapping"] = data["mapping"]
        if not self.is_export:
            result["options"] = data["options"]
            result["rules"] = data["rules"]
        return result


def template_field_cards(template: DataTemplate) -> list[FieldSettings]:
    """The option/rule cards of an import template's resource (none for an unknown one)."""
    try:
        resource_fields = resource_get(template.resource).importable_fields()
    except UnknownResource:
        resource_fields = ()
    return field_cards(
        resource_fields=resource_fields, options=template.options, rules=template.rules
    )
