"""The dashboard's figures: each read in one query, with the same rules as before."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from jobs.models import DataJob, WorkerHeartbeat
from jobs.selectors import jobs_overview, jobs_stalled, workers_state

Status = DataJob.Status


@pytest.fixture
def stalled_after_a_minute(settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 60}


@pytest.mark.usefixtures("stalled_after_a_minute")
def test_the_overview_counts_stalled_jobs_in_its_one_query(
    org, owner, make_job, django_assert_num_queries
):
    now = timezone.now()
    silent = now - timedelta(minutes=10)
    make_job(org, owner, status=Status.RUNNING, started_at=silent, heartbeat_at=silent)
    make_job(org, owner, status=Status.RUNNING, started_at=silent)  # never beat
    make_job(org, owner, status=Status.RUNNING, started_at=silent, heartbeat_at=now)
    make_job(org, owner, status=Status.QUEUED)
    make_job(org, owner, status=Status.COMPLETED, started_at=silent, heartbeat_at=silent)
    jobs = DataJob.objects.filter(organization=org)
    # SQLite reads the stalled ones' ids too, for the heartbeats kept in files (jobs/heartbeat.py).
    with django_assert_num_queries(2 if connection.vendor == "sqlite" else 1):
        overview = jobs_overview(jobs=jobs)
    assert overview["stalled"] == jobs_stalled(jobs).count() == 2
    assert (overview["running"], overview["queued"]) == (3, 1)


@pytest.mark.usefixtures("stalled_after_a_minute")
def test_the_overview_is_one_query_when_nothing_is_stalled(
    org, owner, make_job, django_assert_num_queries
):
    make_job(org, owner, status=Status.RUNNING, started_at=timezone.now())
    make_job(org, owner, status=Status.COMPLETED)
    with django_assert_num_queries(1):
        overview = jobs_overview(jobs=DataJob.objects.filter(organization=org))
    assert (overview["running"], overview["stalled"], overview["completed"]) == (1, 0, 1)


@pytest.mark.usefixtures("stalled_after_a_minute")
def test_workers_state_is_one_query(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        none = workers_state()
    assert (none.alive, none.last_seen, none.any_alive) == (0, None, False)
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="a:1", hostname="a", pid=1)
    old = WorkerHeartbeat.objects.create(name="b:2", hostname="b", pid=2)
    WorkerHeartbeat.objects.filter(pk=old.pk).update(seen_at=now - timedelta(minutes=5))
    with django_assert_num_queries(1):
        state = workers_state()
    assert state.alive == 1 and state.any_alive
    assert state.last_seen == WorkerHeartbeat.objects.exclude(pk=old.pk).get().seen_at


def test_the_rows_leave_the_json_they_never_read_in_the_database(
    owner_client, org, owner, make_job, django_assert_max_num_queries
):
    errors = [{"row": n, "message": "x" * 200} for n in range(50)]
    for n in range(6):
        make_job(
            org,
            owner,
            status=Status.FAILED if n % 2 else Status.COMPLETED,
            failed=2,
            succeeded=5,
            summary={"rolled_back": n % 4 == 1, "errors": errors},
            checkpoint={"errors": errors},
            params={"mapping": {"a": "b"}},
        )
    url = reverse("jobs:dashboard")
    owner_client.get(url)
    with django_assert_max_num_queries(30) as few:
        html = owner_client.get(url).content.decode()
    rows = [q["sql"] for q in few.captured_queries if '"jobs_datajob"."status"' in q["sql"]]
    assert rows and not any('"jobs_datajob"."checkpoint"' in sql for sql in rows)
    # A failed job's summary still says whether it was rolled back, read in one query.
    assert html.count(">Rolled back</span>") == 2 and html.count(">Failed</span>") == 1
    for _ in range(20):
        make_job(org, owner, status=Status.FAILED, summary={"rolled_back": True})
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(url)
