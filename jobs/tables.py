from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from jobs.models import DataJob


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
    created_at = tables.DateTimeColumn(verbose_name="Created", format="j M Y, H:i")

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
