"""Schedules of record exports and of saved export templates (read when the run starts)."""

from __future__ import annotations

import csv
import io

from business.models import Contact
from library.models import DataTemplate
from tests.reports.schedules.conftest import parts


def contacts(org, n=3):
    Contact.objects.bulk_create(
        Contact(organization=org, email=f"c{i}@example.com", first_name=f"F{i}") for i in range(n)
    )


def csv_rows(msg) -> list[list[str]]:
    [(name, data)] = parts(msg)["attachments"].items()
    assert name.endswith(".csv")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_it_schedules_a_record_export_with_filters_and_columns(make_schedule, run_now, smtp, org):
    contacts(org)
    schedule = make_schedule(
        exporter="contacts",
        formats=["csv"],
        params={"filters": {"email": "c1@example.com"}, "columns": ["email", "first_name"]},
    )
    run = run_now(schedule)
    assert run.status == "emailed", run.error_message
    rows = csv_rows(smtp.wait(1)[0])
    assert rows[0] == ["Email", "First name"] and rows[1:] == [["c1@example.com", "F1"]]


def test_it_runs_a_saved_export_template_as_it_is_when_the_run_starts(
    make_schedule, run_now, smtp, org, manager
):
    contacts(org)
    template = DataTemplate.objects.create(
        organization=org,
        name="Just e-mails",
        resource="contacts",
        template_type=DataTemplate.Type.EXPORT,
        mapping={"columns": ["email"], "filters": {}, "format": "csv"},
        created_by=manager,
    )
    schedule = make_schedule(exporter=f"template:{template.pk}", formats=["csv"])
    template.mapping = {"columns": ["first_name"], "filters": {}, "format": "csv"}
    template.save()
    run_now(schedule)
    rows = csv_rows(smtp.wait(1)[0])
    assert rows[0] == ["First name"] and len(rows) == 4
    pk = template.pk
    template.delete()
    failed = run_now(schedule)
    assert failed.status == "failed"
    assert f"template #{pk} no longer exists" in failed.error_message
