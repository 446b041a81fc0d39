"""Audit log: who did what and when, for compliance reviews."""

from __future__ import annotations

import json
from typing import Any

from accounts.permissions import VIEW_AUDIT, export_pdf_code
from business.models import AuditEvent
from business.resources import FieldType as T
from business.writers import Column
from reports.ready import selectors
from reports.ready.base import Report, RowCounter, percent
from reports.ready.forms import AuditLogReportForm
from reports.ready.registry import register

TYPE_LABELS = dict(AuditEvent.Type.choices)
NO_USER = "(system)"


@register
class AuditLogReport(Report):
    identifier = "audit-log"
    name = "Audit log"
    description = (
        "The audit trail of a period: logins, imports, exports, reports and record changes, "
        "summarised by event type and by user, then every event."
    )
    rules = (
        "Dates are the local date of each event.",
        f"Top users: the {selectors.TOP_USERS} users with the most events in the selection.",
    )
    permission = VIEW_AUDIT
    pdf_permission = export_pdf_code("auditevent")
    form_class = AuditLogReportForm
    sections = ("Events by Type", "Top Users", "Events")
    # Who did what is for those with can_view_audit only, not for every member's jobs page.
    figures_in_job = False

    def render(self, *, organization, params: dict[str, Any], writer, progress) -> dict:
        filters = self.clean_params(organization=organization, params=params).cleaned_data
        events = selectors.audit_events(organization=organization, filters=filters)
        t = selectors.audit_totals(events)
        by_type = list(selectors.audit_by_type(events))
        top_users = list(selectors.audit_top_users(events))
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
                Column("count", "Events", T.INTEGER),
                Column("share", "Share %", T.MONEY),
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
                Column("share", "Share %", T.MONEY),
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
                Column("object_id", "Object id", T.TEXT),
                Column("object", "Object", T.TEXT),
                Column("ip_address", "IP address", T.TEXT),
                Column("details", "Details", T.TEXT),
            ],
        )
        for e in counter.each(selectors.audit_rows(events)):
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
    if not details:
        return ""
    return json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
