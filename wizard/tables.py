"""The preview table: one stored ImportRow per line, one column per file column."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

from wizard.models import ImportRow


def cell_messages(record: ImportRow, header: str, field: str | None, kind: str) -> list[str]:
    """Messages about one cell; the engine may key them by file column or by field."""
    store = getattr(record, kind) or {}
    found = list(store.get(header) or [])
    if field and field != header:
        found += [m for m in store.get(field) or [] if m not in found]
    return found


def row_messages(record: ImportRow, headers: list[str], mapping: dict[str, str], kind: str):
    """Messages not tied to any shown column (e.g. a duplicate key within the file)."""
    known = set(headers) | set(mapping.values())
    store = getattr(record, kind) or {}
    return [m for key, msgs in store.items() if key not in known for m in msgs or []]


class CellColumn(tables.Column):
    def __init__(self, *, header: str, field: str | None, field_label: str | None, job, **kwargs):
        self.file_header, self.field, self.job = header, field, job
        verbose = format_html(
            '{}<span class="maps-to">{}</span>',
            header,
            f"→ {field_label}" if field_label else "not imported",
        )
        super().__init__(
            verbose_name=verbose,
            empty_values=(),
            orderable=False,
            attrs={"td": {"class": self.td_class}},
            **kwargs,
        )

    def td_class(self, record: ImportRow | None = None, **_) -> str:
        if record is None:  # the header row asks too
            return "cell"
        if cell_messages(record, self.file_header, self.field, "errors"):
            return "cell cell-error"
        if cell_messages(record, self.file_header, self.field, "warnings"):
            return "cell cell-warning"
        return "cell"

    def render(self, record: ImportRow):
        errors = cell_messages(record, self.file_header, self.field, "errors")
        warnings = cell_messages(record, self.file_header, self.field, "warnings")
        return render_to_string(
            "wizard/preview_cell.html",
            {
                "job": self.job,
                "record": record,
                "header": self.file_header,
                "value": record.effective_values.get(self.file_header),
                "edited": self.file_header in (record.edits or {}),
                "errors": errors,
                "warnings": warnings,
                "editable": bool(errors or warnings),
                "cell_id": f"cell-{record.row_number}-{abs(hash(self.file_header)) % 10**8}",
            },
        )


STATUS_BADGES = {"new": "ok", "update": "info", "unchanged": "pending", "invalid": "error"}


class ImportRowTable(tables.Table):
    row_number = tables.Column("Row", orderable=False, attrs={"td": {"class": "num"}})
    status = tables.Column("Status", orderable=False)
    changes = tables.Column("Changes (old → new)", empty_values=(), orderable=False)

    class Meta:
        model = ImportRow
        fields = ("row_number", "status")
        template_name = "wizard/preview_tables2.html"
        attrs = {"class": "preview-table"}
        row_attrs = {"id": lambda record: f"row-{record.row_number}"}

    def __init__(self, data, *, headers: list[str], job, resource, **kwargs):
        self.file_headers = headers
        self.job = job
        self.mapping = dict((job.params or {}).get("mapping") or {})
        fields = resource.field_map()
        self.field_labels = {f.name: f.label for f in fields.values()}
        extra = []
        for index, header in enumerate(headers):
            field = self.mapping.get(header)
            extra.append(
                (
                    f"col_{index}",
                    CellColumn(
                        header=header,
                        field=field,
                        field_label=fields[field].label if field in fields else None,
                        job=job,
                    ),
                )
            )
        sequence = ("row_number", "status", *[name for name, _ in extra], "changes")
        super().__init__(data, extra_columns=extra, sequence=sequence, **kwargs)

    def render_status(self, record: ImportRow, value):
        badge = format_html(
            '<span class="badge {}">{}</span>',
            STATUS_BADGES.get(record.status, ""),
            record.get_status_display(),
        )
        extra = row_messages(record, self.file_headers, self.mapping, "errors")
        if not extra:
            return badge
        return format_html(
            '{}<ul class="cell-messages" role="list">{}</ul>',
            badge,
            format_html_join("", "<li>{}</li>", ((m,) for m in extra)),
        )

    def render_changes(self, record: ImportRow):
        changes = record.changes or {}
        if not changes:
            return "—"
        return format_html(
            '<ul class="changes">{}</ul>',
            format_html_join(
                "",
                '<li><span class="field">{}</span> <del>{}</del> → <ins>{}</ins></li>',
                (
                    (self.field_labels.get(field, field), _text(pair[0]), _text(pair[1]))
                    for field, pair in changes.items()
                    if isinstance(pair, list | tuple) and len(pair) == 2
                ),
            ),
        )


def _text(value) -> str:
    return "(blank)" if value in (None, "") else str(value)
