"""manage.py schedules list|run NAME|pause NAME."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from business.models import AuditEvent


def test_it_lists_schedules_with_next_run_and_recurrence(make_schedule, capsys):
    make_schedule()
    call_command("schedules", "list")
    out = capsys.readouterr().out
    assert "demo\tWeekly sales\tsales\txlsx+pdf\tactive" in out
    assert "Every Monday at 07:00 Europe/Zurich" in out


def test_it_runs_a_schedule_now_and_mails_it(make_schedule, smtp, sales, capsys):
    schedule = make_schedule(formats=["csv"])
    call_command("schedules", "run", "Weekly sales", "--org", "demo")
    out = capsys.readouterr().out
    assert "E-mailed" in out and "boss@example.com" in out
    assert len(smtp.wait(1)) == 1
    run = schedule.runs.get()
    assert run.manual and run.status == "emailed"
    event = AuditEvent.objects.filter(object_type="schedule", details__action="triggered").get()
    assert event.details["via"] == "cli"


def test_it_pauses_a_schedule(make_schedule, capsys):
    schedule = make_schedule()
    call_command("schedules", "pause", "Weekly sales")
    schedule.refresh_from_db()
    assert not schedule.is_active and "command line" in schedule.paused_reason


def test_it_names_an_unknown_schedule_and_a_failed_run(make_schedule, org, smtp):
    with pytest.raises(CommandError, match="No schedule named 'Nope'"):
        call_command("schedules", "run", "Nope")
    from tests.factories import CustomerFactory

    customer = CustomerFactory(organization=org, code="GONE")
    make_schedule(params={"customer": "GONE"})
    customer.delete()
    with pytest.raises(CommandError, match="no longer valid"):
        call_command("schedules", "run", "Weekly sales")
