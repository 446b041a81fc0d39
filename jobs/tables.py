"""The jobs dashboard's table.

django-tables2 declares the columns, sorts and paginates; ``FastRowsTable.rows_html``
(jobs/fast_rows.py) writes the body rows itself: django-tables2's per-cell machinery was most
of the dashboard's CPU at 25 rows.
"""

from __future__ import annotations

import django_tables2 as tables
from django.db.models import QuerySet
from django.template import Context
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from jobs.fast_rows import CellWriter, FastRowsTable, value_cell_writer
from jobs.models import DataJob
from jobs.templatetags.jobs_tags import job_status_writer

CREATED_FORMAT = "j M Y, H:i"


# What the rows never read. A finished import keeps tens of KB of JSON in its summary (first
# errors, unresolved values), its checkpoint and its params: fetching and decoding them for 25
# rows was a good share of the dashboard's time.
UNREAD = ("params", "checkpoint", "task_kwargs", "error_message", "summary")


def _failed_summaries_load(page: QuerySet[DataJob]) -> None:
    """The summaries the status cells read, in one query: DataJob.outcome reads a failed job's
    (was it rolled back?), and no other."""
    failed = [job for job in page if job.status == DataJob.Status.FAILED]
    if failed:
        summaries = dict(
            DataJob.objects.filter(pk__in=[job.pk for job in failed]).values_list("pk", "summary")
        )
        for job in failed:
            job.summary = summaries[job.pk]


class DataJobTable(FastRowsTable):
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

    def __init__(self, data, *args, **kwargs):
        if isinstance(data, QuerySet):
            data = data.defer(*UNREAD)
        super().__init__(data, *args, **kwargs)

    def paginate(self, *args, **kwargs):
        super().paginate(*args, **kwargs)
        page = self.page.object_list.data
        if isinstance(page, QuerySet):
            _failed_summaries_load(page)
        return self

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

    def row_attrs_html(self, record: DataJob) -> str:
        # Meta.row_attrs, written as django-tables2 writes them.
        return format_html(' id="job-{}" data-status="{}"', record.pk, record.status)

    def cell_writer(self, bound, context: Context) -> CellWriter:
        if bound.name == "status":
            # The function its template calls, without the template (jobs_tags.job_status_html).
            write = job_status_writer(context)
            return lambda record, _counter: write(record)
        get = {
            "id": _id_writer(),
            "job_type": lambda job: job.get_job_type_display() if job.job_type else None,
            "target": lambda job: job.target and self.render_target(job),
            "file": self.render_file,
            "user": lambda job: job.user_id and self.render_user(job),
            "created_at": _created_writer(),
        }.get(bound.name)
        if get is None:
            return super().cell_writer(bound, context)
        return value_cell_writer(get, bound=bound, context=context)


# A pk no job has, to find where the pk goes in a job's URL.
_PK_MARK = 987654321012


def _id_writer():
    """render_id for each row of one table, with one reverse() for the table: its links differ
    only in the pk (the rows test compares them with render_id's)."""
    href = reverse("jobs:detail", args=[_PK_MARK])
    before, after = (escape(part) for part in href.split(str(_PK_MARK), 1))

    def link(job: DataJob):
        pk = int(job.pk)
        return mark_safe(f'<a href="{before}{pk}{after}">#{pk}</a>')

    return link


# The "M" format's month names per language: twelve translation lookups were 4 % of a
# dashboard page's CPU (pyinstrument, bench-web data), and a catalog does not change while the
# server runs.
_MONTHS: dict[str | None, dict[int, str]] = {}


def _months() -> dict[int, str]:
    language = get_language()
    months = _MONTHS.get(language)
    if months is None:
        months = _MONTHS[language] = {n: str(MONTHS_3[n]).title() for n in MONTHS_3}
    return months


def _created_writer():
    """DateTimeColumn's template, {{ value|date:"j M Y, H:i"|default:default }} in local time,
    for each row of one table: the month names are read in the active language once."""
    months = _months()  # what the "M" format writes

    def created(job: DataJob) -> str | None:
        if not job.created_at:
            return job.created_at
        at = timezone.localtime(job.created_at)
        return f"{at.day} {months[at.month]} {at.year:04d}, {at.hour:02d}:{at.minute:02d}"

    return created
