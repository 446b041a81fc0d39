"""Forms of the template library. They validate what a person typed; library.services acts."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from business.resources import resources_for
from library.models import DataTemplate


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
    """Edit a template. The mapping of import templates is edited row by row (``map_*``)."""

    options_json = _json_field(
        "Field options",
        'JSON per field, e.g. {"country": {"default": "France"}, "do_not_email": '
        '{"value_map": {"Oui": "true"}}}.',
    )
    rules_json = _json_field(
        "Validation rules",
        'JSON per field, e.g. {"phone": {"required": true, "regex": "^\\\\+"}}. '
        "Keys: required, min, max, regex, allowed, unique.",
    )
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

    RULE_KEYS = {"required", "min", "max", "regex", "allowed", "unique"}

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
        self.fields["options_json"].initial = json.dumps(instance.options or {}, indent=2)
        self.fields["rules_json"].initial = json.dumps(instance.rules or {}, indent=2)
        if self.is_export:
            self.fields["mapping_json"].initial = json.dumps(instance.mapping or {}, indent=2)
            del self.fields["on_duplicate"]
            del self.fields["mode"]
            del self.fields["rules_json"]
            del self.fields["options_json"]
        else:
            del self.fields["mapping_json"]
        self.mapping_rows = self._mapping_rows()

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

    def clean_options_json(self):
        value = self._load_json("options_json")
        for field, option in value.items():
            if not isinstance(option, dict):
                raise forms.ValidationError(f"The options of '{field}' must be an object.")
        return value

    def clean_rules_json(self):
        value = self._load_json("rules_json")
        for field, rule in value.items():
            if not isinstance(rule, dict):
                raise forms.ValidationError(f"The rules of '{field}' must be an object.")
            unknown = set(rule) - self.RULE_KEYS
            if unknown:
                raise forms.ValidationError(
                    f"Unknown rule {', '.join(sorted(unknown))} for '{field}'. "
                    f"Use: {', '.join(sorted(self.RULE_KEYS))}."
                )
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
        return data

    def field_for(self, part: str) -> str | None:
        """The form field showing a service error about ``part`` (None: the whole form)."""
        name = {"options": "options_json", "rules": "rules_json", "mapping": "mapping_json"}.get(
            part, part
        )
        return name if name in self.fields else None

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        result = {k: data[k] for k in self.Meta.fields if k in self.fields}
        result["mapping"] = data["mapping"]
        if not self.is_export:
            result["options"] = data.get("options_json") or {}
            result["rules"] = data.get("rules_json") or {}
        return result


class RenameForm(forms.Form):
    name = forms.CharField(label="New name", max_length=200)
