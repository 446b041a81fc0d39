"""The dashboard's Job and Created cells are written once per table (jobs/tables.py): they must
read as django-tables2's own rendering of those columns would."""

from datetime import UTC, datetime

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation

from jobs.models import DataJob
from jobs.tables import CREATED_FORMAT, DataJobTable, _created_writer, _id_writer


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_the_created_cell_reads_as_the_date_filter_writes_it(settings, zone):
    settings.TIME_ZONE = zone
    timezone.deactivate()
    created = _created_writer()
    for month in range(1, 13):
        for day, hour, minute in ((1, 0, 0), (9, 9, 5), (28, 23, 59)):
            job = DataJob(created_at=datetime(2026, month, day, hour, minute, tzinfo=UTC))
            expected = date_filter(timezone.localtime(job.created_at), CREATED_FORMAT)
            assert created(job) == expected
    assert created(DataJob(created_at=None)) is None


def test_the_job_cell_links_as_render_id_does(db):
    table = DataJobTable(DataJob.objects.none())
    link = _id_writer()
    for pk in (1, 7, 42, 12345, 987654321):
        job = DataJob(pk=pk)
        assert link(job) == table.render_id(job)


def test_the_created_cell_names_the_month_in_the_active_language():
    # The month names are kept per language (jobs/tables.py _MONTHS): a page in another
    # language must not get the names the first page's language put there.
    job = DataJob(created_at=datetime(2026, 3, 9, 9, 5, tzinfo=UTC))
    for language in ("en", "de", "fr", "en"):
        with translation.override(language):
            expected = date_filter(timezone.localtime(job.created_at), CREATED_FORMAT)
            assert _created_writer()(job) == expected
    with translation.override("de"):
        assert "Mär" in _created_writer()(job)
