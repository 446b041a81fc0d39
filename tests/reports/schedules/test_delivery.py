"""Delivery through a real SMTP server: the mail parsed back, attachments opened, links
followed; retries, failures and notifications; retention; the weekly summary."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from django.core import signing
from django.test import Client
from pypdf import PdfReader

from reports.schedules.delivery import (
    LINK_SALT,
    file_link_resolve,
    schedule_run_deliver,
    weekly_summary_send,
)
from reports.schedules.models import ScheduleRun, ScheduleRunFile
from reports.schedules.services import (
    notification_settings_update,
    schedule_delete,
    schedule_files_purge,
)
from tests.reports.schedules.conftest import parts


def test_it_mails_html_and_text_with_the_xlsx_and_pdf_attached(make_schedule, run_now, smtp, sales):
    schedule = make_schedule(period="last_month")
    run = run_now(schedule)
    assert run.status == "emailed", run.error_message
    [msg] = smtp.wait(1)
    assert set(msg.envelope_to) == {
        "manager@example.com",
        "boss@example.com",
        "cc@example.com",
        "audit@example.com",
    }
    assert "audit@example.com" not in (msg["To"] + msg["Cc"])  # BCC stays hidden
    assert msg["Cc"] == "cc@example.com"
    first, last = run.period_text.split(" to ")
    assert msg["Subject"] == f"Sales for Demo Trading Co. ({first} to {last})"
    body = parts(msg)
    assert "Key figures" in body["text"] and "Key figures" in body["html"]
    assert f"Period: {run.period_text}" in body["text"]
    assert "Good morning, here is Sales" in body["text"]
    assert "Every Monday at 07:00 Europe/Zurich" in body["text"]
    names = sorted(body["attachments"])
    assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "xlsx"]
    xlsx = next(n for n in names if n.endswith(".xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(body["attachments"][xlsx]), read_only=True)
    assert "Summary" in book.sheetnames
    summary_text = " ".join(
        str(c) for row in book["Summary"].iter_rows(values_only=True) for c in row if c
    )
    # The period was resolved into the report's dates and is printed in the file too.
    assert first in summary_text and last in summary_text
    pdf = next(n for n in names if n.endswith(".pdf"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body["attachments"][pdf])).pages)
    assert "Sales" in text
    assert run.recipients and run.emailed_at is not None
    assert [f.format for f in run.files.all()] == ["xlsx", "pdf"]
    assert all(f.size > 0 and f.available for f in run.files.all())


def test_it_sends_a_large_file_as_a_signed_link_that_works_without_login(
    make_schedule, run_now, smtp, sales, settings
):
    settings.FERRY = {**settings.FERRY, "SCHEDULE_ATTACHMENT_MAX_BYTES": 1000}
    run = run_now(make_schedule(formats=["xlsx"]))
    [msg] = smtp.wait(1)
    body = parts(msg)
    assert body["attachments"] == {}
    url = next(w for w in body["text"].split() if "/export/schedules/link/" in w)
    assert url in body["html"]
    response = Client().get(url.replace("http://localhost:8000", ""))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert openpyxl.load_workbook(io.BytesIO(data), read_only=True).sheetnames[0] == "Summary"
    assert run.files.get().linked


def test_it_refuses_a_link_after_expiry_after_tampering_and_once_the_schedule_is_gone(
    make_schedule, run_now, smtp, sales, manager, settings
):
    schedule = make_schedule(formats=["csv"])
    run = run_now(schedule)
    file = run.files.get()
    from reports.schedules.delivery import file_link_token

    token = file_link_token(file=file)
    client = Client()
    assert client.get(f"/export/schedules/link/{token}/").status_code == 200
    assert client.get(f"/export/schedules/link/{token}x/").status_code == 410
    # Another file id under a valid signature for a different schedule: refused.
    forged = signing.dumps({"f": file.pk, "s": schedule.pk + 1}, salt=LINK_SALT)
    assert client.get(f"/export/schedules/link/{forged}/").status_code == 410
    settings.FERRY = {**settings.FERRY, "SCHEDULE_LINK_MAX_AGE_DAYS": 0}
    expired = client.get(f"/export/schedules/link/{token}/")
    assert expired.status_code == 410 and b"expired" in expired.content
    settings.FERRY = {**settings.FERRY, "SCHEDULE_LINK_MAX_AGE_DAYS": 7}
    schedule_delete(schedule=schedule, user=manager)
    gone = client.get(f"/export/schedules/link/{token}/")
    assert gone.status_code == 410 and b"deleted" in gone.content


def test_it_retries_when_smtp_refuses_then_records_the_failure_and_keeps_the_files(
    make_schedule, run_now, smtp, sales
):
    smtp.refuse = "451 Try again later"
    run = run_now(make_schedule(formats=["csv"]))
    assert run.status == "completed" and run.delivery_attempts == 1
    assert "attempt 1 of 3 failed" in run.note and "451" in run.note
    assert not schedule_run_deliver(run=run, attempt=2)
    assert not schedule_run_deliver(run=run, attempt=3)
    run.refresh_from_db()
    assert run.status == "failed" and run.delivery_attempts == 3
    assert "could not be sent after 3 attempts" in run.error_message
    assert "451" in run.error_message and "kept in the history" in run.error_message
    assert smtp.attempts >= 3 and smtp.messages == []
    assert run.files.get().available  # nothing lost
    run.schedule.refresh_from_db()
    assert run.schedule.consecutive_failures == 1


def test_it_delivers_on_a_retry_once_the_server_accepts_again(make_schedule, run_now, smtp, sales):
    smtp.refuse = "421 Service not available"
    run = run_now(make_schedule(formats=["json"]))
    assert run.status == "completed"
    smtp.refuse = ""
    assert schedule_run_deliver(run=run, attempt=2)
    run.refresh_from_db()
    assert run.status == "emailed" and run.delivery_attempts == 2
    [msg] = smtp.wait(1)
    payload = parts(msg)["attachments"]
    assert json.loads(next(iter(payload.values())))


def test_it_records_a_failure_when_the_smtp_server_is_down(
    make_schedule, run_now, smtp_down, sales
):
    run = run_now(make_schedule(formats=["csv"]))
    assert run.status == "completed" and "could not be reached" in run.note
    schedule_run_deliver(run=run, attempt=2)
    schedule_run_deliver(run=run, attempt=3)
    run.refresh_from_db()
    assert run.status == "failed" and "could not be reached" in run.error_message


def test_it_sends_nothing_without_rows_when_asked(make_schedule, run_now, smtp, org):
    run = run_now(make_schedule(only_when_rows=True, formats=["csv"]))
    assert run.status == "completed" and run.rows == 0
    assert "no rows" in run.note and smtp.messages == []


def test_it_notifies_per_the_organizations_settings_with_from_name_and_reply_to(
    make_schedule, run_now, smtp, sales, org, manager
):
    notification_settings_update(
        organization=org,
        user=manager,
        data={
            "notify_on": "both",
            "default_recipients": "ops@example.com",
            "from_name": "Demo Reports",
            "reply_to": "reports@example.com",
        },
    )
    run_now(make_schedule(formats=["csv"]))
    report, notice = smtp.wait(2)
    assert (
        report["From"].startswith("Demo Reports <") and report["Reply-To"] == "reports@example.com"
    )
    assert notice["Subject"] == "Delivered: Weekly sales"
    assert set(notice.envelope_to) == {"manager@example.com", "ops@example.com"}
    assert "boss@example.com" in parts(notice)["text"]


def test_it_refuses_bad_notification_settings(org, manager):
    from reports.schedules.services import ScheduleInvalid

    with pytest.raises(ScheduleInvalid) as exc:
        notification_settings_update(
            organization=org,
            user=manager,
            data={"notify_on": "sometimes", "default_recipients": "x@", "reply_to": "nope"},
        )
    assert set(exc.value.errors) == {"notify_on", "default_recipients", "reply_to"}


def test_it_deletes_files_after_retention_and_keeps_the_history_rows(
    make_schedule, run_now, smtp, sales, org, manager
):
    notification_settings_update(organization=org, user=manager, data={"retention_days": 10})
    run = run_now(make_schedule(formats=["csv"]))
    file = run.files.get()
    path = file.file.path
    assert schedule_files_purge(now=file.created_at + dt.timedelta(days=9)) == 0
    assert schedule_files_purge(now=file.created_at + dt.timedelta(days=11)) == 1
    file.refresh_from_db()
    assert not file.available and file.purged_at is not None
    import os

    assert not os.path.exists(path)
    assert ScheduleRun.objects.filter(pk=run.pk).exists()
    from reports.schedules.delivery import LinkRefused, file_link_token

    with pytest.raises(LinkRefused, match="retention"):
        file_link_resolve(token=file_link_token(file=file))


def test_it_sends_a_weekly_summary_of_runs_failures_and_paused_schedules(
    make_schedule, run_now, smtp, sales, org, manager, owner
):
    from reports.schedules.services import schedule_pause

    run_now(make_schedule(formats=["csv"]))
    paused = make_schedule(name="Stock", formats=["csv"])
    schedule_pause(schedule=paused, user=manager, reason="On holiday")
    smtp.messages.clear()
    assert weekly_summary_send(organization=org)
    [msg] = smtp.wait(1)
    assert msg["Subject"] == "Weekly schedules summary · Demo Trading Co."
    assert msg.envelope_to == ["owner@example.com"]  # the admins, without default recipients
    text = parts(msg)["text"]
    assert "Runs: 1" in text and "E-mailed: 1" in text and "Stock: On holiday" in text


def test_it_keeps_files_in_storage_per_run_for_download(make_schedule, run_now, smtp, sales):
    run = run_now(make_schedule(formats=["xlsx", "csv"]))
    stored = ScheduleRunFile.objects.filter(run=run)
    assert {f.filename.rsplit(".", 1)[1] for f in stored} == {"xlsx", "csv"}
    assert all(
        f"schedules/{run.organization_id}/{run.schedule_id}/{run.pk}/" in f.file.name
        for f in stored
    )
