"""A run keeps the statistics of the table it fills good enough to plan its key lookups
(wizard/engine/statistics.py): a table never analyzed is analyzed at the first batch, and
one whose statistics do not know the organization is analyzed as the run grows it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction

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


def _analyze_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'business_contact'"
        )
        return cursor.fetchone()[0]


def _import(org, owner, tmp_path, rows: int, *, overlap: bool):
    path = tmp_path / "grow.csv"
    path.write_text(csv_text([["Email"]] + [[f"p{i}@x.com"] for i in range(rows)]), "utf-8")
    return engine_run(draft(org, owner, "contacts", path), path, overlap=overlap).execute()


def _analyzed_with(owner_org, settings, monkeypatch) -> int:
    """2,000 contacts of ``owner_org``, the table analyzed, batches of 100 and checks from 100
    created rows on; how many times the table was analyzed by hand so far."""
    Contact.objects.bulk_create(
        Contact(organization=owner_org, email=f"o{i}@x.com") for i in range(2_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE business_contact")
    monkeypatch.setattr(statistics, "FIRST", 100)
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 100}
    return _analyze_count()


@pytest.mark.parametrize("overlap", [True, False], ids=["overlapped", "one-thread"])
def test_a_tenant_the_statistics_do_not_know_gets_the_table_analyzed(
    org, other_org, owner, tmp_path, settings, monkeypatch, overlap
):
    """The statistics were taken when only another organization had contacts: they put
    this one at next to nothing, and the run's lookups would read all of its records."""
    before = _analyzed_with(other_org, settings, monkeypatch)

    assert _import(org, owner, tmp_path, 450, overlap=overlap)["created"] == 450

    assert _analyze_count() > before
    table = statistics.TableStatistics(Contact, org.pk)
    assert table._estimate() >= 100, "the statistics know this organization now"


def test_a_tenant_the_statistics_know_leaves_them_alone(
    org, owner, tmp_path, settings, monkeypatch
):
    before = _analyzed_with(org, settings, monkeypatch)

    assert _import(org, owner, tmp_path, 450, overlap=True)["created"] == 450

    assert _analyze_count() == before


def test_a_table_never_analyzed_is_analyzed_at_the_first_batch_outside_transactions():
    table_name = "ferry_statistics_probe"
    model = SimpleNamespace(
        _meta=SimpleNamespace(
            db_table=table_name,
            concrete_fields=[SimpleNamespace(name="organization", column="organization_id")],
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table_name} (organization_id integer)")
        cursor.execute(f"INSERT INTO {table_name} SELECT 1 FROM generate_series(1, 100)")
    try:
        inside = statistics.TableStatistics(model, 1)
        with transaction.atomic():
            assert inside.refresh(0) is False  # its rows would not be committed yet
        first = statistics.TableStatistics(model, 1)
        assert first._never_analyzed()
        assert first.refresh(0) is True
        assert not first._never_analyzed()
        assert first.refresh(0) is False
        assert statistics.TableStatistics(model, 1).refresh(0) is False
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {table_name}")


def test_a_check_the_database_refuses_does_not_fail_the_run(
    org, owner, tmp_path, settings, monkeypatch
):
    def refuse(self):
        raise DatabaseError("permission denied for table pg_class")

    monkeypatch.setattr(statistics.TableStatistics, "_never_analyzed", refuse)
    monkeypatch.setattr(statistics.TableStatistics, "_estimate", refuse)
    monkeypatch.setattr(statistics, "FIRST", 100)
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 100}

    assert _import(org, owner, tmp_path, 250, overlap=True)["created"] == 250
