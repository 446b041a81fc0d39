"""E-mail: the run's mail (HTML + plain text, attachments or signed links), retries with
backoff, success/failure/paused notifications and the weekly summary."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from jobs.errors import FerryError
from reports.schedules.exporters import format_label
from reports.schedules.models import NotificationSettings, Schedule, ScheduleRun, ScheduleRunFile

logger = logging.getLogger(__name__)
LINK_SALT = "ferry.schedules.file-link"


# --- signed links ----------------------------------------------------------------------------


class LinkRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def file_link_token(*, file: ScheduleRunFile) -> str:
    return signing.dumps({"f": file.pk, "s": file.run.schedule_id}, salt=LINK_SALT)


def file_link_url(*, file: ScheduleRunFile) -> str:
    path = reverse("reports:schedule_file_link", kwargs={"token": file_link_token(file=file)})
    return settings.FERRY.get("SITE_URL", "http://localhost:8000").rstrip("/") + path


def file_link_resolve(*, token: str) -> ScheduleRunFile:
    """The file a link names; LinkRefused when expired, tampered with, or the schedule (or the
    file, after retention) is gone."""
    from reports.schedules.services import setting

    max_age = dt.timedelta(days=setting("SCHEDULE_LINK_MAX_AGE_DAYS"))
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkRefused("This download link has expired.") from exc
    except signing.BadSignature as exc:
        raise LinkRefused("This download link is not valid.") from exc
    found = (
        ScheduleRunFile.objects.select_related("run")
        .filter(pk=data.get("f"), run__schedule_id=data.get("s"))
        .first()
    )
    if found is None:
        raise LinkRefused("The schedule this file belonged to was deleted.")
    if not found.available:
        raise LinkRefused("This file is no longer kept (retention period over).")
    return found


# --- composing -------------------------------------------------------------------------------


def _placeholders(*, run: ScheduleRun, exporter_name: str) -> dict[str, str]:
    schedule = run.schedule
    return {
        "report": exporter_name,
        "schedule": schedule.name,
        "period": run.period_text or "as set in the schedule",
        "organization": schedule.organization.name,
        "rows": f"{run.rows or 0:,}",
        "date": timezone.now().astimezone(_zone(schedule)).date().isoformat(),
    }


def _zone(schedule: Schedule):
    from reports.schedules.recurrence import zone_get

    return zone_get(schedule.timezone)


class _SafeDict(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(text: str, values: dict[str, str]) -> str:
    """Placeholders such as {report}, {period}, {organization}, {rows}; unknown ones stay."""
    try:
        return text.format_map(_SafeDict(values))
    except (ValueError, IndexError):
        return text


def _from_address(notify: NotificationSettings | None) -> str:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if notify and notify.from_name:
        return formataddr((notify.from_name, address))
    return settings.DEFAULT_FROM_EMAIL


def _notify_settings(organization) -> NotificationSettings:
    from reports.schedules.services import notification_settings_get

    return notification_settings_get(organization=organization)


def run_recipients(run: ScheduleRun) -> list[str]:
    schedule = run.schedule
    out: list[str] = []
    if schedule.owner is not None and schedule.owner.email:
        out.append(schedule.owner.email)
    for address in schedule.recipients:
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return out


def run_message(*, run: ScheduleRun) -> EmailMultiAlternatives:
    from reports.schedules.exporters import target_get
    from reports.schedules.recurrence import rule_describe
    from reports.schedules.services import setting

    schedule = run.schedule
    try:
        exporter_name = target_get(
            organization=schedule.organization, identifier=schedule.exporter
        ).name
    except FerryError:
        exporter_name = schedule.exporter
    values = _placeholders(run=run, exporter_name=exporter_name)
    subject = fill(schedule.subject or "{report} · {period} · {organization}", values)
    intro = fill(schedule.message, values)
    limit = setting("SCHEDULE_ATTACHMENT_MAX_BYTES")
    files = list(run.files.all())
    attached, linked = [], []
    for f in files:
        if f.size > limit:
            linked.append(
                {"file": f, "url": file_link_url(file=f), "label": format_label(f.format)}
            )
        else:
            attached.append({"file": f, "label": format_label(f.format)})
    ScheduleRunFile.objects.filter(pk__in=[x["file"].pk for x in linked]).update(linked=True)
    context = {
        "run": run,
        "schedule": schedule,
        "exporter_name": exporter_name,
        "intro": intro,
        "period": values["period"],
        "rows": values["rows"],
        "figures": run.key_figures or [],
        "attached": attached,
        "linked": linked,
        "link_days": setting("SCHEDULE_LINK_MAX_AGE_DAYS"),
        "recurrence": rule_describe(rule=schedule.rrule, tz=schedule.timezone),
        "organization": schedule.organization,
    }
    notify = _notify_settings(schedule.organization)
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " ")[:250],
        body=render_to_string("reports/schedules/email_run.txt", context),
        from_email=_from_address(notify),
        to=run_recipients(run),
        cc=schedule.cc,
        bcc=schedule.bcc,
        reply_to=[notify.reply_to] if notify.reply_to else None,
    )
    message.attach_alternative(
        render_to_string("reports/schedules/email_run.html", context), "text/html"
    )
    for item in attached:
        f = item["file"]
        with f.file.open("rb") as fh:
            message.attach(f.filename, fh.read(), _mime(f.format))
    return message


def _mime(fmt: str) -> str:
    return {
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf",
        "csv": "text/csv",
        "json": "application/json",
        "zip": "application/zip",
    }.get(fmt, "application/octet-stream")


# --- sending with retries ----------------------------------------------------------------------

# What a mail server being down or refusing looks like; anything else is a bug, not retried.
TRANSIENT = (smtplib.SMTPException, OSError, socket.timeout)


def _smtp_reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the mail server refused the recipients"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"the mail server answered {exc.smtp_code} {text}".strip()
    if isinstance(exc, ConnectionRefusedError | socket.timeout | OSError):
        return "the mail server could not be reached"
    return "the mail server did not accept the message"


def send(message: EmailMultiAlternatives) -> None:
    connection = get_connection(fail_silently=False)
    message.connection = connection
    message.send(fail_silently=False)


def retry_delay(attempt: int) -> float:
    """Seconds before ``attempt`` (2, 3, …): the base, then doubling."""
    from reports.schedules.services import setting

    return float(setting("SCHEDULE_RETRY_BASE_SECONDS")) * (2 ** max(0, attempt - 2))


def schedule_run_deliver(*, run: ScheduleRun, attempt: int) -> bool:
    """Send the run's mail; on a transient SMTP problem try again later (backoff), and after the
    last try record the failure. The files stay in the history either way."""
    from reports.schedules.services import (
        schedule_run_fail,
        schedule_run_finish,
        schedule_run_succeeded,
        setting,
    )

    run = ScheduleRun.objects.select_related("schedule", "schedule__owner", "organization").get(
        pk=run.pk
    )
    if run.status in (ScheduleRun.Status.EMAILED, ScheduleRun.Status.FAILED):
        return run.status == ScheduleRun.Status.EMAILED
    tries = setting("SCHEDULE_DELIVERY_TRIES")
    ScheduleRun.objects.filter(pk=run.pk).update(delivery_attempts=attempt)
    try:
        message = run_message(run=run)
        if not message.recipients():
            raise ValueError("no recipients")
        send(message)
    except ValueError:
        schedule_run_fail(
            run=run,
            message="No one to send to: the owner has no e-mail address and there are no "
            "recipients. The files are in the history.",
        )
        return False
    except TRANSIENT as exc:
        reason = _smtp_reason(exc)
        logger.warning("Schedule run %s: delivery attempt %s failed: %s", run.pk, attempt, exc)
        if attempt < tries:
            delay = retry_delay(attempt + 1)
            # Completed: the files are there; the mail waits for its next try.
            schedule_run_finish(
                run,
                ScheduleRun.Status.COMPLETED,
                note=f"E-mail attempt {attempt} of {tries} failed ({reason}); "
                f"trying again in {int(delay)} s.",
            )
            from reports.schedules.tasks import schedule_deliver_task

            schedule_deliver_task.schedule((run.pk, attempt + 1), delay=delay)
            return False
        schedule_run_fail(
            run=run,
            message=f"The e-mail could not be sent after {tries} attempts: {reason}. "
            "The files are kept in the history.",
        )
        return False
    schedule_run_succeeded(run=run, recipients=message.recipients())
    notify_success(run=run)
    return True


# --- notifications ---------------------------------------------------------------------------


def _notice_recipients(schedule: Schedule, notify: NotificationSettings) -> list[str]:
    out = []
    if schedule.owner is not None and schedule.owner.email:
        out.append(schedule.owner.email)
    for address in notify.default_recipients:
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return out


def _notice(
    *, schedule: Schedule, subject: str, template: str, context: dict, to: list[str]
) -> None:
    if not to:
        return
    notify = _notify_settings(schedule.organization)
    context = {"schedule": schedule, "organization": schedule.organization, **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"reports/schedules/{template}.txt", context),
        from_email=_from_address(notify),
        to=to,
        reply_to=[notify.reply_to] if notify.reply_to else None,
    )
    message.attach_alternative(
        render_to_string(f"reports/schedules/{template}.html", context), "text/html"
    )
    try:
        send(message)
    except TRANSIENT:
        # The notice is a courtesy: the failure itself is already in the history.
        logger.warning("Could not send the '%s' notice for schedule %s", subject, schedule.pk)


def _notify_run(*, run: ScheduleRun, kind: str, wanted: tuple[str, ...], subject: str) -> None:
    notify = _notify_settings(run.schedule.organization)
    if notify.notify_on not in (*wanted, notify.NotifyOn.BOTH):
        return
    _notice(
        schedule=run.schedule,
        subject=f"{subject}: {run.schedule.name}",
        template="email_notice",
        context={"run": run, "kind": kind},
        to=_notice_recipients(run.schedule, notify),
    )


def notify_success(*, run: ScheduleRun) -> None:
    _notify_run(run=run, kind="success", wanted=("success",), subject="Delivered")


def notify_failure(*, run: ScheduleRun) -> None:
    _notify_run(run=run, kind="failure", wanted=("failure",), subject="Failed")


def notify_paused(*, schedule: Schedule, run: ScheduleRun, reason: str) -> None:
    """The owner is always told when a schedule paused itself (whatever notify_on says)."""
    notify = _notify_settings(schedule.organization)
    _notice(
        schedule=schedule,
        subject=f"Paused: {schedule.name}",
        template="email_notice",
        context={"run": run, "kind": "paused", "reason": reason},
        to=_notice_recipients(schedule, notify),
    )


def weekly_summary_send(*, organization, now: dt.datetime | None = None) -> bool:
    """Runs, failures and paused schedules of the last seven days, to the default recipients
    (or the organization's admins when there are none)."""
    from accounts.models import Membership
    from accounts.permissions import Role

    now = now or timezone.now()
    notify = _notify_settings(organization)
    if not notify.weekly_summary:
        return False
    since = now - dt.timedelta(days=7)
    schedules = Schedule.objects.filter(organization=organization)
    if not schedules.exists():
        return False
    runs = ScheduleRun.objects.filter(organization=organization, created_at__gte=since)
    counts = runs.aggregate(
        total=Count("pk"),
        failed=Count("pk", filter=Q(status=ScheduleRun.Status.FAILED)),
        emailed=Count("pk", filter=Q(status=ScheduleRun.Status.EMAILED)),
    )
    to = list(notify.default_recipients) or list(
        Membership.objects.filter(organization=organization, role=Role.ADMIN)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not to:
        return False
    context: dict[str, Any] = {
        "organization": organization,
        "since": since,
        "now": now,
        "counts": counts,
        "failures": runs.filter(status=ScheduleRun.Status.FAILED).select_related("schedule")[:20],
        "paused": schedules.filter(is_active=False),
        "active": schedules.filter(is_active=True).count(),
    }
    message = EmailMultiAlternatives(
        subject=f"Weekly schedules summary · {organization.name}",
        body=render_to_string("reports/schedules/email_weekly.txt", context),
        from_email=_from_address(notify),
        to=to,
        reply_to=[notify.reply_to] if notify.reply_to else None,
    )
    message.attach_alternative(
        render_to_string("reports/schedules/email_weekly.html", context), "text/html"
    )
    send(message)
    return True
