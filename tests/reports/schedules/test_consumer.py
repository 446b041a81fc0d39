"""Real Huey consumers: each due slot runs exactly once with two of them ticking at the same
time; a run end to end (job with progress, files, mail); an SMTP retry with backoff."""

from __future__ import annotations

import io
import time

import openpyxl
import pytest
from django.utils import timezone

from jobs.models import DataJob
from reports.schedules.models import Schedule, ScheduleRun
from tests.reports.schedules.conftest import consumer_logs, parts

pytestmark = pytest.mark.consumer


def wait_until(check, *, timeout=60.0, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out\n" + consumer_logs(procs))


def test_it_runs_each_due_slot_exactly_once_with_two_consumers(
    two_consumers, smtp, make_schedule, sales
):
    from reports.schedules.tasks import schedules_tick_now

    schedules = [make_schedule(name=f"Sales {n}", formats=["csv"]) for n in range(4)]
    due = timezone.now() - timezone.timedelta(seconds=30)
    Schedule.objects.filter(pk__in=[s.pk for s in schedules]).update(next_run_at=due)
    # Forty ticks at once, spread over both processes' worker threads.
    for _ in range(40):
        schedules_tick_now()
    wait_until(
        lambda: ScheduleRun.objects.filter(status="emailed").count() == 4,
        procs=two_consumers,
    )
    time.sleep(2)  # anything late to the party would show now
    assert ScheduleRun.objects.count() == 4
    assert sorted(ScheduleRun.objects.values_list("schedule__name", flat=True)) == [
        f"Sales {n}" for n in range(4)
    ]
    assert len(smtp.messages) == 4
    assert DataJob.objects.filter(params__schedule__isnull=False).count() == 4
    for schedule in Schedule.objects.all():
        assert schedule.next_run_at > timezone.now()


def test_it_runs_a_schedule_end_to_end_in_the_worker(
    two_consumers, smtp, make_schedule, sales, manager
):
    from reports.schedules.services import schedule_trigger

    run = schedule_trigger(schedule=make_schedule(formats=["xlsx"]), user=manager)
    wait_until(lambda: ScheduleRun.objects.get(pk=run.pk).status == "emailed", procs=two_consumers)
    run.refresh_from_db()
    # The run is marked e-mailed inside the job's work; the job completes a moment after.
    wait_until(lambda: DataJob.objects.get(pk=run.job_id).status != "running", procs=two_consumers)
    job = DataJob.objects.get(pk=run.job_id)
    assert job.status == "completed" and job.processed == job.total and job.total
    assert job.summary["rows"] == run.rows
    [msg] = smtp.wait(1)
    body = parts(msg)
    [(name, data)] = body["attachments"].items()
    assert name.endswith(".xlsx")
    assert "Summary" in openpyxl.load_workbook(io.BytesIO(data), read_only=True).sheetnames


def test_it_retries_delivery_with_backoff_in_the_worker_until_smtp_accepts(
    two_consumers, smtp, make_schedule, sales, manager
):
    from reports.schedules.services import schedule_trigger

    smtp.refuse = "451 Greylisted, try again"
    run = schedule_trigger(schedule=make_schedule(formats=["csv"]), user=manager)
    wait_until(lambda: smtp.attempts >= 1, procs=two_consumers)
    smtp.refuse = ""
    wait_until(lambda: ScheduleRun.objects.get(pk=run.pk).status == "emailed", procs=two_consumers)
    run.refresh_from_db()
    assert run.delivery_attempts >= 2 and len(smtp.messages) == 1
