"""The jobs dashboard's table.

django-tables2 declares the columns, sorts and paginates; ``DataJobTable.rows_html`` writes
the body rows itself. Its per-cell machinery (an ``inspect.signature`` per cell, a new
RequestContext with every context processor per status cell, and ``DateTimeColumn`` compiling
its template anew for every cell) was most of the dashboard's CPU at 25 rows.
"""

from __future__ import annotations

import django_tables2 as tables
from django.template import Context
from django.template.base import render_value_in_context
from django.template.defaultfilters import date as date_filter
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from jobs.models import DataJob

CREATED_FORMAT = "j M Y, H:i"


class DataJobTable(tables.Table):
    id = tables.Column(verbose_name="Job", attrs={"td": {"class": "nowrap"}})
    job_type = tables.Column(verbose_name="Type")
    target = tables.Column(verbose_name="Target", order_by=("target_label", "target"))
    file = tables.Column(
        verbose_name="File",
        accessor="input_filename",
        order_by=("input_filename", "output_filename"),
        # An export has no input file: its own render shows the output's name instead.
        empty_values=(),
        attrs={"td": {"class": "file-cell"}},
    )
    status = tables.TemplateColumn(
        template_name="jobs/dashboard_status_cell.html",
        verbose_name="Status",
        attrs={"td": {"class": "status-cell"}},
    )
    user = tables.Column(verbose_name="Started by", order_by=("user__username",), default="—")
    created_at = tables.DateTimeColumn(verbose_name="Created", format=CREATED_FORMAT)

    class Meta:
        model = DataJob
        fields = ()
        sequence = (
            "id",
            "job_type",
            "target",
            "file",
            "status",
            "user",
            "created_at",
        )
        order_by = ("-created_at",)
        template_name = "jobs/table.html"
        empty_text = "No jobs match these filters."
        attrs = {"class": "jobs-table"}
        row_attrs = {
            "id": lambda record: f"job-{record.pk}",
            "data-status": lambda record: record.status,
        }

    def render_id(self, record: DataJob):
        return format_html(
            '<a href="{}">#{}</a>', reverse("jobs:detail", args=[record.pk]), record.pk
        )

    def render_target(self, record: DataJob):
        return record.target_display

    def render_file(self, record: DataJob):
        # The file the job read, or for an export the file it wrote.
        return record.input_filename or record.output_filename or "—"

    def value_file(self, record: DataJob):
        return record.input_filename or record.output_filename

    def render_user(self, record: DataJob):
        return record.user.get_username() if record.user else "—"

    def rows_html(self) -> SafeString:
        """The ``<tr>`` rows of the current page, as django-tables2 would write them."""
        # render_table lends the table the page's context while it renders; the status cell's
        # template is rendered in it, as an {% include %} is.
        context = getattr(self, "context", None) or Context()
        status = get_template("jobs/dashboard_status_cell.html").template
        default = render_value_in_context(self.default, context)

        def text(value) -> str:
            return default if value in (None, "") else render_value_in_context(value, context)

        def status_cell(job: DataJob) -> str:
            with context.push(record=job, value=None, default=self.default):
                return status.render(context)

        def created(job: DataJob) -> str:
            # DateTimeColumn's template: {{ value|date:format|default:default }}, local time.
            stamp = job.created_at and date_filter(
                timezone.localtime(job.created_at), CREATED_FORMAT
            )
            return text(stamp)

        cells = {
            "id": self.render_id,
            "job_type": lambda job: text(job.get_job_type_display() if job.job_type else None),
            "target": lambda job: text(job.target and self.render_target(job)),
            "file": lambda job: text(self.render_file(job)),
            "status": status_cell,
            "user": lambda job: text(job.user_id and self.render_user(job)),
            "created_at": created,
        }
        columns = [
            (cells[c.name], mark_safe(f"<td {c.attrs['td'].as_html()}>")) for c in self.columns
        ]
        out = []
        for job in self.paginated_rows.data:
            parity = "odd" if next(self._counter) % 2 else "even"
            row = "".join(f"{td}{cell(job)}</td>" for cell, td in columns)
            out.append(
                format_html(
                    '<tr id="job-{}" data-status="{}" class="{}">{}</tr>',
                    job.pk,
                    job.status,
                    parity,
                    mark_safe(row),
                )
            )
        if not out and self.empty_text:
            out.append(
                format_html('<tr><td colspan="{}">{}</td></tr>', len(self.columns), self.empty_text)
            )
        return mark_safe("".join(out))


def format_duration(duration) -> str:
    if duration is None:
        return "—"
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
