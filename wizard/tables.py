"""The preview table: one stored ImportRow per line, one column per file column."""

from __future__ import annotations

from urllib.parse import urlencode

import django_tables2 as tables
from django.core.paginator import Paginator
from django.db.models import Subquery
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django_tables2.rows import BoundRows

from wizard.engine.params import ImportParams
from wizard.models import ImportRow
from wizard.preview_problems import kind_of


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
    def __init__(
        self, *, header: str, index: int, field: str | None, field_label: str | None, job, **kwargs
    ):
        self.file_header, self.col_index, self.field, self.job = header, index, field, job
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
        # Built in Python, not with a template per cell: a preview page has hundreds of cells.
        header = self.file_header
        errors = cell_messages(record, header, self.field, "errors")
        warnings = cell_messages(record, header, self.field, "warnings")
        value = record.effective_values.get(header)
        cell_id = f"cell-{record.row_number}-{self.col_index}"
        edited = header in (record.edits or {})
        parts = [
            format_html(
                '<span class="cell-value{}"{}>{}</span>',
                " edited" if edited else "",
                format_html(' title="{}"', " · ".join([*errors, *warnings]))
                if errors or warnings
                else "",
                value
                if value not in (None, "")
                else mark_safe('<span class="muted">(blank)</span>'),
            )
        ]
        if edited:
            parts.append(
                mark_safe('<span class="badge info" title="You changed this value">edited</span>')
            )
        if errors or warnings:
            # Compact: a short chip per kind of problem (the message on hover, and once in the
            # problems panel) keeps a row one line high however long the message; the full
            # text stays for screen readers.
            parts.append(
                format_html(
                    '<span class="cell-messages" id="{}-msg">{}{}<span class="visually-hidden">'
                    "{}</span></span>",
                    cell_id,
                    format_html_join(
                        "",
                        '<span class="problem-chip" title="{}">{}</span>',
                        ((m, kind_of(m).label) for m in errors),
                    ),
                    format_html_join(
                        "",
                        '<span class="problem-chip warning" title="{}">warning</span>',
                        ((m,) for m in warnings),
                    ),
                    " · ".join([*errors, *warnings]),
                )
            )
            edit_url = reverse("wizard:cell_edit", args=[self.job.pk, record.row_number])
            parts.append(
                format_html(
                    '<button type="button" class="link small fix" hx-get="{}?{}" '
                    'hx-target="#{}" hx-swap="outerHTML" aria-label="Fix row {}, column {}" '
                    'aria-describedby="{}-msg">Fix</button>',
                    edit_url,
                    urlencode({"column": header}),
                    cell_id,
                    record.row_number,
                    header,
                    cell_id,
                )
            )
        return format_html(
            '<div class="cell-body" id="{}">{}</div>', cell_id, mark_safe("".join(parts))
        )


STATUS_BADGES = {
    "new": "ok",
    "update": "info",
    "unchanged": "pending",
    "invalid": "error",
    "merged": "pending",
}


class RowNumberPaginator(Paginator):
    """Pages of a preview's rows (ordered by row number) without OFFSET over whole rows: the
    first row number of the page is found by skipping through the (job, row_number) index
    alone, then the page's rows are read from there. The last page of 100,000 rows costs about
    what the first does."""

    def page(self, number):
        number = self.validate_number(number)
        skip = (number - 1) * self.per_page
        size = self.per_page
        if skip + size + self.orphans >= self.count:
            size = self.count - skip
        rows = self.object_list  # the table's BoundRows over the ordered queryset
        if not skip:
            return self._get_page(rows[:size], number, self)
        queryset = rows.data.data
        first = queryset.values_list("row_number", flat=True)[skip : skip + 1]
        page = queryset.filter(row_number__gte=Subquery(first))[:size]
        return self._get_page(
            BoundRows(data=page, table=rows.table, pinned_data=rows.pinned_data), number, self
        )


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
        self.mapping = ImportParams.from_job(job).mapping
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
                        index=index,
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
