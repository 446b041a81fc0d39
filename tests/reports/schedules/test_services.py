"""Saving schedules (every bad input a clear message), claiming slots exactly once, late runs,
runs with the owner's permissions at run time, audit events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Membership
from business.models import AuditEvent
from jobs.models import DataJob
from reports.schedules.models import Schedule, ScheduleRun
from reports.schedules.services import (
    ScheduleForbidden,
    ScheduleInvalid,
    schedule_activate,
    schedule_create,
    schedule_delete,
    schedule_duplicate,
    schedule_pause,
    schedule_update,
    schedules_claim_due,
)
from tests.reports.schedules.conftest import run_here, schedule_data

UTC = dt.UTC


def test_it_saves_a_weekly_schedule_with_its_rule_and_next_run(org, manager):
    now = dt.datetime(2026, 3, 25, 12, tzinfo=UTC)  # a Wednesday
    schedule = schedule_create(organization=org, user=manager, data=schedule_data(), now=now)
    assert schedule.rrule == "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7;BYMINUTE=0;BYSECOND=0"
    # Monday 30 March, 07:00 in Zurich = 05:00 UTC (summer time since the 29th).
    assert schedule.next_run_at == dt.datetime(2026, 3, 30, 5, tzinfo=UTC)
    assert schedule.owner == manager and schedule.formats == ["xlsx", "pdf"]
    event = AuditEvent.objects.get(object_type="schedule", object_id=str(schedule.pk))
    assert event.details["action"] == "created" and event.user == manager


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone 'Mars/Olympus'"),
        ({"frequency": "custom", "rrule": "FREQ=NEVER"}, "recurrence", "is not valid"),
        ({"weekdays": []}, "recurrence", "at least one day"),
        ({"recipients": ["boss@example.com", "not-an-address"]}, "recipients", "not-an-address"),
        ({"cc": "a@example.com; broken@"}, "cc", "broken@"),
        ({"exporter": "payroll"}, "exporter", "Unknown exporter 'payroll'"),
        ({"formats": ["docx"]}, "formats", "Choose one or more formats"),
        ({"params": {"date_from": "yesterday-ish"}}, "params", "yesterday-ish"),
        ({"params": {"warehouse": "NOPE"}}, "params", "warehouse"),
        ({"run_time": "25:99"}, "run_time", "not a time of day"),
        ({"period": "fortnight"}, "period", "Unknown period"),
        ({"exporter": "contacts", "period": "yesterday", "formats": ["csv"]}, "period", "no date"),
    ],
)
def test_it_refuses_bad_input_with_a_clear_message(org, manager, overrides, field, message):
    with pytest.raises(ScheduleInvalid) as exc:
        schedule_create(organization=org, user=manager, data=schedule_data(**overrides))
    assert field in exc.value.errors, exc.value.errors
    assert message in " ".join(exc.value.errors[field])
    assert not Schedule.objects.exists()


def test_it_refuses_an_exporter_the_owner_may_not_use(org, manager):
    membership = Membership.objects.get(user=manager)
    membership.revoked_permissions = ["can_export_salesorder_pdf"]
    membership.save()
    with pytest.raises(ScheduleInvalid) as exc:
        schedule_create(organization=org, user=manager, data=schedule_data())
    assert "can_export_salesorder_pdf" in " ".join(exc.value.errors["exporter"])


def test_it_lets_only_members_with_the_schedule_permission_manage(org, member, viewer):
    for user in (member, viewer):
        with pytest.raises(ScheduleForbidden):
            schedule_create(organization=org, user=user, data=schedule_data())


def test_it_claims_a_due_slot_once_however_often_the_tick_runs(make_schedule):
    schedule = make_schedule()
    slot = schedule.next_run_at
    after = slot + dt.timedelta(seconds=20)
    first = schedules_claim_due(now=after)
    again = schedules_claim_due(now=after)
    assert len(first) == 1 and again == []
    run = first[0]
    assert run.slot == slot and not run.late and not run.manual
    schedule.refresh_from_db()
    assert schedule.next_run_at == slot + dt.timedelta(days=7)
    # A normal job, on the jobs dashboard, with the schedule in its params.
    job = DataJob.objects.get(pk=run.job_id)
    assert job.job_type == "report" and job.target == "sales"
    assert job.params["schedule"] == schedule.pk and job.status == "queued"


def test_it_has_a_database_constraint_for_one_run_per_slot(make_schedule, org):
    schedule = make_schedule()
    ScheduleRun.objects.create(schedule=schedule, organization=org, slot=schedule.next_run_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduleRun.objects.create(schedule=schedule, organization=org, slot=schedule.next_run_at)


def test_it_runs_a_missed_slot_once_after_downtime_marked_late(make_schedule):
    schedule = make_schedule()
    slot = schedule.next_run_at
    three_weeks_later = slot + dt.timedelta(days=21, hours=2)
    runs = schedules_claim_due(now=three_weeks_later)
    assert len(runs) == 1 and runs[0].late and runs[0].slot == slot
    schedule.refresh_from_db()
    assert schedule.next_run_at > three_weeks_later
    assert schedules_claim_due(now=three_weeks_later) == []


def test_it_fails_and_pauses_when_the_owner_left_the_organization(make_schedule, smtp, manager):
    schedule = make_schedule()
    runs = schedules_claim_due(now=schedule.next_run_at)
    Membership.objects.filter(user=manager).delete()
    run = run_here(runs[0])
    assert run.status == "failed"
    assert "no longer run it" in run.error_message and "paused" in run.error_message
    schedule.refresh_from_db()
    assert not schedule.is_active and "manager" in schedule.paused_reason
    job = DataJob.objects.get(pk=run.job_id)
    assert job.status == "failed" and "paused" in job.error_message
    # The owner is told why (they still have their address, if not the membership).
    notice = smtp.wait(1)[0]
    assert notice["Subject"] == "Paused: Weekly sales"
    assert "manager@example.com" in notice.envelope_to


def test_it_fails_and_pauses_when_the_owner_lost_the_pdf_permission(make_schedule, smtp, manager):
    schedule = make_schedule()
    membership = Membership.objects.get(user=manager)
    membership.revoked_permissions = ["can_export_salesorder_pdf"]
    membership.save()
    run = run_here(schedules_claim_due(now=schedule.next_run_at)[0])
    assert run.status == "failed" and "can_export_salesorder_pdf" in run.error_message
    schedule.refresh_from_db()
    assert not schedule.is_active


def test_it_fails_clearly_when_a_report_parameter_no_longer_validates(make_schedule, smtp, org):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(organization=org, code="GONE")
    schedule = make_schedule(params={"customer": "GONE"})
    customer.delete()
    run = run_here(schedules_claim_due(now=schedule.next_run_at)[0])
    assert run.status == "failed"
    assert "no longer valid" in run.error_message and "GONE" in run.error_message
    schedule.refresh_from_db()
    assert schedule.is_active and schedule.consecutive_failures == 1


def test_it_pauses_after_n_consecutive_failures_and_tells_the_owner(
    make_schedule, smtp, org, settings
):
    from tests.factories import CustomerFactory

    settings.FERRY = {**settings.FERRY, "SCHEDULE_MAX_FAILURES": 2}
    customer = CustomerFactory(organization=org, code="GONE")
    schedule = make_schedule(params={"customer": "GONE"})
    customer.delete()
    now = schedule.next_run_at
    run_here(schedules_claim_due(now=now)[0])
    schedule.refresh_from_db()
    assert schedule.is_active
    run_here(schedules_claim_due(now=schedule.next_run_at)[0])
    schedule.refresh_from_db()
    assert not schedule.is_active and schedule.consecutive_failures == 2
    assert "after 2 failed runs" in schedule.paused_reason
    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects == ["Failed: Weekly sales", "Paused: Weekly sales"]
    assert schedules_claim_due(now=now + dt.timedelta(days=30)) == []


def test_it_pauses_activates_duplicates_updates_and_deletes_with_audit(make_schedule, manager):
    schedule = make_schedule()
    schedule_pause(schedule=schedule, user=manager)
    schedule.refresh_from_db()
    assert not schedule.is_active
    schedule_activate(schedule=schedule, user=manager)
    schedule.refresh_from_db()
    assert schedule.is_active and schedule.next_run_at is not None
    copy = schedule_duplicate(schedule=schedule, user=manager)
    assert copy.name == "Copy of Weekly sales" and copy.rrule == schedule.rrule
    assert copy.frequency == "weekly"
    schedule_update(
        schedule=copy,
        user=manager,
        data=schedule_data(name="Monthly sales", frequency="monthly", monthly_mode="last"),
    )
    copy.refresh_from_db()
    assert copy.rrule.startswith("FREQ=MONTHLY;BYMONTHDAY=-1")
    schedule_delete(schedule=copy, user=manager)
    actions = list(
        AuditEvent.objects.filter(object_type="schedule")
        .order_by("pk")
        .values_list("details__action", flat=True)
    )
    assert actions == [
        "created",
        "paused",
        "activated",
        "created",
        "updated",
        "deleted",
    ]


def test_it_retries_an_unexpected_render_error_on_a_new_job_then_succeeds(
    make_schedule, smtp, sales, monkeypatch
):
    from reports.schedules.services import running as services

    real = services.target_render
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full for a moment")
        return real(**kwargs)

    monkeypatch.setattr(services, "target_render", flaky)
    schedule = make_schedule(formats=["csv"])
    run = schedules_claim_due(now=schedule.next_run_at)[0]
    first_job = run.job_id
    run = run_here(run)
    assert run.status == "queued" and run.attempts == 2
    assert "Attempt 1 of 3" in run.note and f"job {first_job}" in run.note
    assert DataJob.objects.get(pk=first_job).status == "failed"
    assert run.job_id != first_job and DataJob.objects.get(pk=run.job_id).status == "pending"
    run = run_here(run)
    assert run.status == "emailed" and len(smtp.wait(1)) == 1
    assert run.files.count() == 1


def test_it_fails_after_the_last_try_of_an_unexpected_error(make_schedule, smtp, monkeypatch):
    from reports.schedules.services import running as services

    def broken(**kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(services, "target_render", broken)
    schedule = make_schedule(formats=["csv"])
    run = schedules_claim_due(now=schedule.next_run_at)[0]
    for _ in range(3):
        run = run_here(run)
    assert run.status == "failed" and run.attempts == 3
    assert "unexpected error" in run.error_message and "disk" not in run.error_message
