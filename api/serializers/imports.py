"""The body of an import: the file, its mapping and the read and run settings."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.parsers import unstorable_text
from api.serializers.common import JSONObjectField
from library.models import DataTemplate


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The CSV, TSV, XLSX, XLS, ODS, JSON or JSON Lines file. The format is read "
        "from the content, not the name."
    )
    template = serializers.IntegerField(
        required=False, min_value=1, help_text="An import template's id (its saved mapping)."
    )
    mapping = JSONObjectField(
        required=False,
        help_text="File header → field name, as a JSON object. Unmapped headers are "
        "auto-mapped (template, names, synonyms, then fuzzy).",
    )
    on_duplicate = serializers.ChoiceField(
        choices=DataTemplate.OnDuplicate.choices,
        required=False,
        help_text="What to do with a row whose natural key already exists.",
    )
    create_missing = JSONObjectField(
        required=False,
        help_text='Reference fields whose missing records may be created, e.g. {"account": true}.',
    )
    mode = serializers.ChoiceField(
        choices=DataTemplate.Mode.choices,
        required=False,
        help_text="atomic: any error writes nothing; skip-invalid: valid rows are written.",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Validate everything, write nothing."
    )
    repeats = serializers.ChoiceField(
        choices=["fail", "first", "last"],
        required=False,
        help_text="Rows repeating a key with other values: fail them (default), or keep the "
        "first or the last row's values. Identical repeats are always merged into one record.",
    )
    rounding = serializers.ChoiceField(
        choices=["reject", "half-up", "half-even"],
        required=False,
        help_text="Money and decimals with more places than the field keeps: refused "
        "(default) or rounded half-up or half-even.",
    )
    date_formats = JSONObjectField(
        required=False,
        help_text='Date formats by field (name, label or mapped column), e.g. {"birth_date": '
        '"excel-1900"} for bare Excel date numbers (excel-1900 or excel-1904), or a pattern '
        'such as "%d/%m/%Y".',
    )
    sheet = serializers.CharField(required=False, max_length=200, help_text="Spreadsheet sheet.")
    encoding = serializers.CharField(
        required=False, max_length=40, help_text="Text encoding; detected when absent."
    )
    delimiter = serializers.CharField(
        required=False, max_length=1, min_length=1, help_text="CSV delimiter; detected when absent."
    )
    header_row = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        help_text="Row number of the header (1 = first row); detected when absent.",
    )

    def validate_encoding(self, value):
        # The same check as the wizard and the command line (a codec that is not a text
        # encoding, such as rot13 or base64, is refused with a field error).
        from wizard.readers import ReaderError, encoding_clean

        try:
            return encoding_clean(value)
        except ReaderError as exc:
            raise serializers.ValidationError(exc.message) from None

    def validate_file(self, upload):
        if unstorable_text(upload.name or ""):
            raise serializers.ValidationError(
                "The file name contains characters Ferry cannot store."
            )
        return upload

    def read_options(self) -> dict[str, Any]:
        data = self.validated_data
        return {k: data[k] for k in ("sheet", "encoding", "delimiter", "header_row") if k in data}
