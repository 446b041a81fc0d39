"""A run that grows its table analyzes it as it goes (wizard/engine/statistics.py), so each
batch's lookup of existing records is planned on the rows that are there, not on the handful
the statistics knew of when the run began."""

from __future__ import annotations

import pytest
from django.db import connection

from business.models import Contact
from tests.wizard.test_engine import csv_text, draft, media_in_tmp  # noqa: F401
from tests.wizard.test_write_path import engine_run
from wizard.engine import statistics

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's planner statistics only"
    ),
]


def _analyzed() -> tuple[int, float]:
    """How often the contacts table was analyzed by hand, and the rows it last counted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.analyze_count, c.reltuples FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'business_contact'"
        )
        return cursor.fetchone()


@pytest.mark.parametrize("overlap", [True, False], ids=["overlapped", "one-thread"])
def test_it_analyzes_its_table_each_time_what_it_created_doubled(
    org, owner, tmp_path, settings, monkeypatch, overlap
):
    monkeypatch.setattr(statistics, "FIRST", 10)
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 10}
    path = tmp_path / "grow.csv"
    path.write_text(csv_text([["Email"]] + [[f"p{i}@x.com"] for i in range(75)]), "utf-8")
    job = draft(org, owner, "contacts", path)
    count_before, _ = _analyzed()

    summary = engine_run(job, path, overlap=overlap).execute()

    assert summary["created"] == 75
    count_after, rows_counted = _analyzed()
    # Before the batches that start at 10, 20 and 40 created records; not at 70 (< 80).
    assert count_after - count_before == 3
    # The last ANALYZE counted what was committed then: with the writer thread, the batch
    # still in flight is not.
    assert rows_counted >= (30 if overlap else 40)
    assert Contact.objects.filter(organization=org).count() == 75


def test_it_leaves_the_table_alone_inside_a_transaction(org):
    """An all-or-nothing run's rows are not committed: ANALYZE would not count them and would
    hold its lock to the end of the run."""
    from django.db import transaction

    table = statistics.TableStatistics(Contact._meta.db_table)
    count_before, _ = _analyzed()
    with transaction.atomic():
        assert table.refresh(10**6) is False
    assert table.refresh(statistics.FIRST - 1) is False
    assert _analyzed()[0] == count_before
    assert table.refresh(statistics.FIRST) is True
    assert _analyzed()[0] == count_before + 1
