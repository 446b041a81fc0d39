"""An import's batches commit without waiting for PostgreSQL's WAL flush: for one transaction
on the run's shared connection, for every later one on the writer process's own."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from wizard.engine.writing import RELAXED_COMMITS, relaxed_commits

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's setting"),
]


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_one_batch_relaxes_its_own_transaction_only():
    with transaction.atomic():
        relaxed_commits()
        assert _setting() == "off"
    assert _setting() == "on"


def test_the_writers_connection_relaxes_every_later_commit():
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RELAXED_COMMITS)
        with transaction.atomic():
            assert _setting() == "off"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
