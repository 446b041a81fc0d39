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
from reports.exporters.base import RowChunks, queryset_chunks

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


def export_chunks(
    *, queryset: models.QuerySet, fields: list[Field], labels: bool = False
) -> RowChunks:
    """The rows in chunks as the database returns them, with a converter per column (writers
    apply them in their own per-row step: ``writer.section(..., converters=...)``).

    ``values_list`` over the export paths reads references' natural keys through a join, so
    there is no query per row. With ``labels`` choice codes become their labels (for people
    reading a PDF); files meant for re-import keep the codes. A JSON object leaves as JSON text,
    the form its import reads back.
    """
    paths = [f.export_path for f in fields]
    source = queryset_chunks(queryset.values_list(*paths), chunk_size=CHUNK_SIZE)
    for index, field in enumerate(fields):
        if labels and field.type == FieldType.CHOICE and field.choices:
            source.then(index, _Labels(field.choices).__getitem__)
        elif field.type == FieldType.JSON:
            source.then(index, _json_text)
    return source


def export_rows(
    *, queryset: models.QuerySet, fields: list[Field], labels: bool = False
) -> Iterator[tuple]:
    """Rows as tuples of values, streamed from the database in chunks (``export_chunks``)."""
    return export_chunks(queryset=queryset, fields=fields, labels=labels).rows()


class _Labels(dict):
    """Choice code → label; a code without one (None, a retired code) is kept as it is. Run
    per row: a code found costs a dictionary lookup, no Python call."""

    def __missing__(self, key):
        return key


def _json_text(value: Any) -> Any:
    return value if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


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
