"""Reading for the export builder: columns, rows, previews and saved export templates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db import models

from business.filters import filters_active, filters_apply
from business.resources import Field, FieldType, Resource
from business.writers import Column
from business.writers.base import NUMERIC_TYPES, display_value
from library.models import DataTemplate
from library.selectors import templates_offered

# Rows fetched per database round trip while streaming an export.
CHUNK_SIZE = 2000
PREVIEW_ROWS = 10


def export_column(field: Field, *, key: tuple[str, ...] = ()) -> Column:
    # A record's own code and a reference's (WH-SOUTH, SKU-0042) never break across lines.
    return Column(
        name=field.name,
        label=field.label,
        type=field.type,
        nowrap=field.type == FieldType.REFERENCE or field.name in key,
    )


def export_fields(*, resource: type[Resource], columns: list[str] | None) -> list[Field]:
    """The fields to export, in order; the resource's default columns when none are chosen."""
    if not columns:
        return list(resource.default_export_fields())
    field_map = resource.field_map()
    return [field_map[name] for name in columns]


def export_queryset(
    *, resource: type[Resource], organization, filters: dict | None
) -> models.QuerySet:
    """The organization's records, filtered, in a stable order (InvalidFilter for bad filters)."""
    return filters_apply(resource=resource, organization=organization, data=filters or {}).order_by(
        "pk"
    )


def export_rows(
    *, queryset: models.QuerySet, fields: list[Field], labels: bool = False
) -> Iterator[tuple]:
    """Rows as tuples of values, streamed from the database in chunks.

    ``values_list`` over the export paths reads references' natural keys through a join, so
    there is no query per row. With ``labels`` choice codes become their labels (for people
    reading a PDF); files meant for re-import keep the codes.
    """
    paths = [f.export_path for f in fields]
    rows = queryset.values_list(*paths).iterator(chunk_size=CHUNK_SIZE)
    choice_maps = [
        dict(f.choices) if labels and f.type == FieldType.CHOICE and f.choices else None
        for f in fields
    ]
    if any(f.type == FieldType.JSON for f in fields):
        # A JSON object leaves as JSON text, the form its import reads back.
        rows = _json_as_text(rows, [f.type == FieldType.JSON for f in fields])
    if not any(choice_maps):
        return rows
    return _choices_as_labels(rows, [(i, m) for i, m in enumerate(choice_maps) if m is not None])


def _choices_as_labels(rows: Iterator[tuple], maps: list[tuple[int, dict]]) -> Iterator[tuple]:
    # Only the choice columns are looked at: this runs once per row of million-row exports,
    # where a pass over every cell cost a third more than writing the CSV itself.
    for row in rows:
        row = list(row)
        for i, labels in maps:
            value = row[i]
            if value is not None:
                row[i] = labels.get(value, value)
        yield tuple(row)


def _json_as_text(rows: Iterator[tuple], is_json: list[bool]) -> Iterator[tuple]:
    for row in rows:
        yield tuple(
            json.dumps(v, ensure_ascii=False, sort_keys=True) if j and v is not None else v
            for v, j in zip(row, is_json, strict=True)
        )


def export_preview(
    *, resource: type[Resource], organization, filters: dict | None, fields: list[Field]
) -> dict[str, Any]:
    """The live count and the first rows, for the builder's preview panel."""
    queryset = export_queryset(resource=resource, organization=organization, filters=filters)
    numeric = [f.type in NUMERIC_TYPES for f in fields]
    rows = [
        [(display_value(v, f.type), n) for v, f, n in zip(row, fields, numeric, strict=True)]
        for row in export_rows(queryset=queryset[:PREVIEW_ROWS], fields=fields, labels=True)
    ]
    return {
        "count": queryset.count(),
        "rows": rows,
        "columns": [
            (export_column(f, key=resource.key), n) for f, n in zip(fields, numeric, strict=True)
        ],
    }


def export_filters_text(*, resource: type[Resource], filters: dict | None) -> list[str]:
    """ "Label: value" lines for the filters used, printed on PDFs and shown on the job page."""
    return [
        f"{item['label']}: {item['value']}"
        for item in filters_active(resource=resource, data=filters or {})
    ]


def export_templates_for(*, organization, user, resources: list[type[Resource]]):
    """Export templates a person may use: their own and the shared ones, for resources they
    may export."""
    return templates_offered(
        organization=organization,
        user=user,
        template_type=DataTemplate.Type.EXPORT,
        resources=[r.name for r in resources],
    )
