"""Audit log: who did what and when, for compliance reviews."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, QuerySet

from accounts.models import Membership
from accounts.permissions import VIEW_AUDIT, export_pdf_code
from accounts.scoping import scoped
from business.models import AuditEvent
from business.resources import FieldType as T
from business.writers import Column
from reports.exporters import RowCounter, register
from reports.ready.base import Report, percent
from reports.ready.forms import ANY, DateField, ReportForm

TYPE_LABELS = dict(AuditEvent.Type.choices)
NO_USER = "(system)"


# --- parameters ------------------------------------------------------------


class AuditLogReportForm(ReportForm):
    date_ranges = (("date_from", "date_to"),)

    date_from = DateField(label="From", required=False)
    date_to = DateField(label="To", required=False)
    event_type = forms.ChoiceField(
        label="Event type", required=False, choices=[ANY, *AuditEvent.Type.choices]
    )
    user = forms.ChoiceField(label="User", required=False)

    def setup(self) -> None:
        # The organization's members only: a username from elsewhere is not a valid choice.
        user_ids = Membership.objects.filter(organization=self.organization).values("user_id")
        names = (
            get_user_model()
            .objects.filter(pk__in=user_ids)
            .order_by("username")
            .values_list("username", flat=True)
        )
        self.fields["user"].choices = [ANY] + [(n, n) for n in names]


# --- queries ------------------------------------------------------------


def audit_events(*, organization, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    qs = scoped(AuditEvent, organization)
    if filters.get("date_from"):
        qs = qs.filter(time__date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(time__date__lte=filters["date_to"])
    if filters.get("event_type"):
        qs = qs.filter(event_type=filters["event_type"])
    if filters.get("user"):
        qs = qs.filter(user__username=filters["user"])
    return qs


def audit_totals(events: QuerySet[AuditEvent]) -> dict[str, Any]:
    return events.aggregate(
        events=Count("pk"), users=Count("user", distinct=True), first=Min("time"), last=Max("time")
    )


def audit_by_type(events: QuerySet[AuditEvent]) -> QuerySet:
    return (
        events.order_by()
        .values("event_type")
        .annotate(count=Count("pk"), last=Max("time"))
        .order_by("-count", "event_type")
    )


TOP_USERS = 10


def audit_top_users(events: QuerySet[AuditEvent]) -> QuerySet:
    return (
        events.order_by()
        .values("user__username")
        .annotate(count=Count("pk"), last=Max("time"))
        .order_by("-count", "user__username")[:TOP_USERS]
    )


def audit_rows(events: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    return (
        events.order_by("time", "pk")
        .values(
            "time",
            "event_type",
            "user__username",
            "object_type",
            "object_id",
            "object_repr",
            "ip_address",
            "details",
        )
        .iterator(chunk_size=2000)
    )


# --- the report ------------------------------------------------------------


@register
class AuditLogReport(Report):
    identifier = "audit-log"
    name = "Audit log"
    order = 40  # money first, the audit trail last
    description = (
        "The audit trail of a period: logins, imports, exports, reports and record changes, "
        "summarised by event type and by user, then every event."
    )
    rules = (
        "Dates are the local date of each event.",
        f"Top users: the {TOP_USERS} users with the most events in the selection.",
    )
    permission = VIEW_AUDIT
    pdf_permission = export_pdf_code("auditevent")
    form_class = AuditLogReportForm
    sections = ("Events by Type", "Top Users", "Events")
    # Who did what is for those with can_view_audit only, not for every member's jobs page.
    figures_in_job = False

    def render(self, *, organization, params: dict[str, Any], writer, progress) -> dict:
        filters = self.clean_params(organization=organization, params=params).cleaned_data
        events = audit_events(organization=organization, filters=filters)
        t = audit_totals(events)
        by_type = list(audit_by_type(events))
        top_users = list(audit_top_users(events))
        figures = {
            "events": t["events"],
            "users": t["users"],
            "event_types": len(by_type),
            "by_type": {row["event_type"]: row["count"] for row in by_type},
            "top_users": {row["user__username"] or NO_USER: row["count"] for row in top_users},
        }
        busiest = by_type[0] if by_type else None
        top = top_users[0] if top_users else None
        writer.summary(
            "Summary",
            [
                ("Events", t["events"]),
                ("First event", t["first"]),
                ("Last event", t["last"]),
                ("Event types", len(by_type)),
                ("Users", t["users"]),
                (
                    "Most frequent event",
                    f"{TYPE_LABELS.get(busiest['event_type'], busiest['event_type'])} "
                    f"({busiest['count']:,})"
                    if busiest
                    else "",
                ),
                (
                    "Most active user",
                    f"{top['user__username'] or NO_USER} ({top['count']:,})" if top else "",
                ),
            ],
        )
        counter = RowCounter(progress, len(by_type) + len(top_users) + t["events"])

        writer.section(
            "Events by Type",
            [
                Column("event_type", "Event type", T.TEXT),
                Column("count", "Events", T.INTEGER, total=True),
                Column("share", "Share %", T.MONEY, total=False),
                Column("last", "Last", T.DATETIME),
            ],
        )
        for row in counter.each(by_type):
            writer.row(
                [
                    TYPE_LABELS.get(row["event_type"], row["event_type"]),
                    row["count"],
                    _share(row["count"], t["events"]),
                    row["last"],
                ]
            )

        writer.section(
            "Top Users",
            [
                Column("user", "User", T.TEXT),
                Column("count", "Events", T.INTEGER),
                Column("share", "Share %", T.MONEY, total=False),
                Column("last", "Last activity", T.DATETIME),
            ],
        )
        for row in counter.each(top_users):
            writer.row(
                [
                    row["user__username"] or NO_USER,
                    row["count"],
                    _share(row["count"], t["events"]),
                    row["last"],
                ]
            )

        writer.section(
            "Events",
            [
                Column("time", "Time", T.DATETIME),
                Column("event_type", "Event", T.TEXT),
                Column("user", "User", T.TEXT),
                Column("object_type", "Object type", T.TEXT),
                Column("object_id", "Object id", T.TEXT, nowrap=True),
                Column("object", "Object", T.TEXT),
                Column("ip_address", "IP address", T.TEXT, nowrap=True),
                Column("details", "Details", T.TEXT),
            ],
        )
        for e in counter.each(audit_rows(events)):
            writer.row(
                [
                    e["time"],
                    TYPE_LABELS.get(e["event_type"], e["event_type"]),
                    e["user__username"] or NO_USER,
                    e["object_type"],
                    e["object_id"],
                    e["object_repr"],
                    e["ip_address"] or "",
                    _details(e["details"]),
                ]
            )
        counter.finish()
        return {"rows": counter.done, "figures": figures}


def _share(count: int, total: int):
    return percent(count, total)


def _details(details: Any) -> str:
    """An event's details as a person reads them: "Format: pdf · Job: 45 · Params: date
    from 2026-01-01, status confirmed, invoiced" instead of the stored JSON."""
    if not details:
        return ""
    if not isinstance(details, dict):
        return _detail_value(details)
    parts = [
        f"{_detail_key(key)}: {_detail_value(value)}"
        # In name order: PostgreSQL's jsonb does not keep the order the details were written in.
        for key, value in sorted(details.items())
        if value not in (None, "", [], {})
    ]
    return " · ".join(parts)


def _detail_key(key: Any) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _detail_value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(
            f"{_detail_key(k).lower()} {_detail_value(v)}"
            for k, v in sorted(value.items())
            if v not in (None, "", [], {})
        )
    if isinstance(value, list | tuple):
        return ", ".join(_detail_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
