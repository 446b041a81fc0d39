"""Forms of the import wizard's steps: upload and read, mapping, save as template, preview fixes,
run and undo.

Forms only validate what a person typed; the wizard's services do the work.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from business.resources import FieldType, resources_for
from library.fields import DATE_FORMATS, DATES
from library.models import DataTemplate

ACCEPTED_EXTENSIONS = (
    ".csv",
    ".tsv",
    ".txt",
    ".xlsx",
    ".xls",
    ".ods",
    ".json",
    ".jsonl",
    ".ndjson",
)
ACCEPT_ATTR = ",".join(ACCEPTED_EXTENSIONS)

ENCODINGS = [
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16"),
    ("cp1252", "Windows-1252 (Western Europe)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
    ("iso-8859-15", "Latin-9 (ISO-8859-15)"),
    ("mac-roman", "Mac Roman"),
    ("cp850", "DOS Latin-1 (CP850)"),
]
DELIMITERS = [(",", "Comma ( , )"), (";", "Semicolon ( ; )"), ("\t", "Tab"), ("|", "Pipe ( | )")]
DECIMALS = [("", "Detect from the data"), (".", "1,234.56 (point)"), (",", "1.234,56 (comma)")]
NUMERIC = (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY)


def mapping_fields(resource) -> dict:
    """Fields a column can map to; an orders file may also carry its lines' fields."""
    from wizard.mapping import mapping_targets

    return mapping_targets(resource)


def _resource_choices(membership) -> list[tuple[str, str]]:
    return [(r.name, r.label) for r in resources_for(membership, "import")]


class UploadForm(forms.Form):
    resource = forms.ChoiceField(label="Import into")
    template = forms.ModelChoiceField(
        label="Saved template (optional)",
        queryset=DataTemplate.objects.none(),
        required=False,
        empty_label="None — suggest a mapping",
    )
    file = forms.FileField(
        label="File",
        help_text="CSV, TSV, Excel (xlsx, xls), OpenDocument (ods), JSON or JSON Lines.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR}),
    )

    def __init__(self, *args, membership, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [("", "Choose what to import…")] + _resource_choices(
            membership
        )
        self.fields["template"].queryset = templates
        self.max_bytes = settings.FERRY["MAX_UPLOAD_BYTES"]
        self.fields["file"].help_text += f" Up to {filesizeformat(self.max_bytes)}."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise forms.ValidationError(
                f"This file is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(self.max_bytes)}. Split it into smaller files."
            )
        if upload.size == 0:
            raise forms.ValidationError("This file is empty.")
        suffix = PurePath(upload.name or "").suffix.lower()
        if suffix not in ACCEPTED_EXTENSIONS:
            raise forms.ValidationError(
                f"Ferry cannot read '{suffix or 'files without an extension'}' files. "
                "Upload CSV, Excel, OpenDocument or JSON."
            )
        return upload

    def clean(self):
        data = super().clean()
        template, resource = data.get("template"), data.get("resource")
        if template and resource and template.resource != resource:
            self.add_error(
                "template",
                f"The template '{template}' imports {template.resource}, not {resource}.",
            )
        return data


class ReadForm(forms.Form):
    """How the file is read: every detected setting can be overridden."""

    encoding = forms.ChoiceField(label="Encoding", required=False)
    delimiter = forms.ChoiceField(label="Delimiter", required=False, choices=DELIMITERS)
    sheet = forms.ChoiceField(label="Sheet", required=False)
    header_row = forms.IntegerField(label="Header row", min_value=1, max_value=1000, required=False)

    def __init__(self, *args, file_info: dict, **kwargs):
        super().__init__(*args, **kwargs)
        encodings = list(ENCODINGS)
        detected = (file_info.get("encoding") or "").lower()
        if detected and detected not in {e for e, _ in encodings}:
            encodings.insert(0, (detected, detected))
        self.fields["encoding"].choices = encodings
        sheets = file_info.get("sheets") or []
        self.fields["sheet"].choices = [(s, s) for s in sheets]
        fmt = file_info.get("format") or ""
        self.is_text = fmt in ("csv", "tsv", "txt", "")
        self.is_sheet = bool(sheets)
        if not self.is_text:
            del self.fields["encoding"]
            del self.fields["delimiter"]
        if not self.is_sheet:
            del self.fields["sheet"]
        if fmt in ("json", "jsonl"):
            del self.fields["header_row"]

    def read_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


def parse_value_map(text: str) -> dict[str, str]:
    """Lines of ``from = to``; blank lines ignored."""
    result: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        if "=" not in line:
            raise forms.ValidationError(
                f"Line {number} ('{line.strip()}') needs the form 'value in file = value to import'."
            )
        source, _, target = line.partition("=")
        result[source.strip()] = target.strip()
    return result


def format_value_map(value_map: dict | None) -> str:
    return "\n".join(f"{k} = {v}" for k, v in (value_map or {}).items())


class MappingForm(forms.Form):
    """One select per file column (``col_<n>``) and options per mapped field (``opt_<field>_*``)."""

    def __init__(self, *args, headers: list[str], resource, options: dict | None = None, **kw):
        super().__init__(*args, **kw)
        self.headers = headers
        self.resource = resource
        self.importable = mapping_fields(resource)
        own = [f for f in resource.importable_fields()]
        lines = [f for f in self.importable.values() if f not in own]
        choices: list = [("", "— Do not import —")] + [
            (f.name, f"{f.label}{' *' if f.required else ''}") for f in own
        ]
        if lines:
            choices.append(("Order lines", [(f.name, f.label) for f in lines]))
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}", choices=choices, required=False
            )
        self._mark_used(choices)
        options = options or {}
        for f in self.importable.values():
            current = options.get(f.name) or {}
            self.fields[f"opt_{f.name}_default"] = forms.CharField(
                label="Default when blank",
                required=False,
                initial=current.get("default") or "",
                max_length=500,
            )
            self.fields[f"opt_{f.name}_value_map"] = forms.CharField(
                label="Value map",
                required=False,
                initial=format_value_map(current.get("value_map")),
                widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Oui = true"}),
                help_text="One per line: value in file = value to import.",
            )
            if f.type in DATES:
                self.fields[f"opt_{f.name}_date_format"] = forms.ChoiceField(
                    label="Date format",
                    choices=DATE_FORMATS,
                    required=False,
                    initial=current.get("date_format") or "",
                )
            if f.type in NUMERIC:
                self.fields[f"opt_{f.name}_decimal"] = forms.ChoiceField(
                    label="Decimal separator",
                    choices=DECIMALS,
                    required=False,
                    initial=current.get("decimal") or "",
                )

    def _mark_used(self, choices: list) -> None:
        """Say in each column's list which fields other columns already use (JavaScript keeps
        it current as the person changes columns; ``clean`` refuses a field taken twice)."""
        current: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            name = f"col_{index}"
            value = self.data.get(name) if self.is_bound else self.initial.get(name)
            if value and value not in current:
                current[value] = header or f"Column {index + 1}"

        def relabel(options, own):
            result = []
            for value, label in options:
                if isinstance(label, list | tuple):
                    result.append((value, relabel(label, own)))
                elif value and value in current and current[value] != own:
                    result.append((value, f"{label} (used by '{current[value]}')"))
                else:
                    result.append((value, label))
            return result

        for index, header in enumerate(self.headers):
            own = header or f"Column {index + 1}"
            self.fields[f"col_{index}"].choices = relabel(choices, own)

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            field = data.get(f"col_{index}")
            if not field:
                continue
            if field in seen:
                label = self.importable[field].label
                self.add_error(
                    f"col_{index}",
                    f"'{label}' is already mapped from column '{seen[field]}'. "
                    "Each field takes one column.",
                )
            else:
                seen[field] = header
        for name in self.importable:
            key = f"opt_{name}_value_map"
            if key in data:
                try:
                    data[key] = parse_value_map(data[key])
                except forms.ValidationError as exc:
                    self.add_error(key, exc)
        return data

    def mapping(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            header: data[f"col_{i}"]
            for i, header in enumerate(self.headers)
            if data.get(f"col_{i}")
        }

    def options(self, existing: dict | None = None) -> dict[str, dict]:
        """Per-field options, keeping options this form does not edit (constant, join…)."""
        data = self.cleaned_data
        result: dict[str, dict] = {}
        for name in self.importable:
            option = dict((existing or {}).get(name) or {})
            for key in ("default", "value_map", "date_format", "decimal"):
                # Inputs not on the page (fields not shown) keep what was saved before.
                if f"opt_{name}_{key}" not in self.data:
                    continue
                value = data.get(f"opt_{name}_{key}")
                if value:
                    option[key] = value
                else:
                    option.pop(key, None)
            if option:
                result[name] = option
        return result

    def column_fields(self):
        return [self[f"col_{i}"] for i in range(len(self.headers))]

    def option_fields(self, name: str):
        return [
            self[key]
            for key in (
                f"opt_{name}_default",
                f"opt_{name}_value_map",
                f"opt_{name}_date_format",
                f"opt_{name}_decimal",
            )
            if key in self.fields
        ]


class SaveTemplateForm(forms.Form):
    name = forms.CharField(label="Template name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_shared = forms.BooleanField(label="Share with the whole organization", required=False)

    def __init__(self, *args, can_share: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_share:
            del self.fields["is_shared"]


class CellEditForm(forms.Form):
    column = forms.CharField(max_length=500)
    value = forms.CharField(label="New value", required=False, max_length=10_000, strip=False)


class ReferenceForm(forms.Form):
    """What to do with one unresolved reference value."""

    ACTIONS = [
        ("create", "Create it"),
        ("map", "Map to an existing record"),
        ("clear", "Undo choice"),
    ]

    field = forms.CharField(max_length=100)
    value = forms.CharField(max_length=1000, strip=False, required=False)
    action = forms.ChoiceField(choices=ACTIONS)
    target = forms.CharField(label="Existing record", max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == "map" and not data.get("target"):
            self.add_error("target", "Choose the existing record to use instead.")
        if data.get("action") == "map" and not data.get("value"):
            self.add_error("value", "Say which value of the file to map.")
        return data


class RunForm(forms.Form):
    on_duplicate = forms.ChoiceField(
        label="When a record already exists",
        choices=DataTemplate.OnDuplicate.choices,
        widget=forms.RadioSelect,
    )
    mode = forms.ChoiceField(
        label="When a row is invalid", choices=DataTemplate.Mode.choices, widget=forms.RadioSelect
    )


class UndoForm(forms.Form):
    force = forms.BooleanField(
        label="Also undo the records listed above (what was done since is lost)",
        required=False,
    )
    # Digests of the plans the page showed (without and with force).
    plan = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    forced_plan = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
