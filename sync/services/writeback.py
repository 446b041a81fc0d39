"""The export half of a sync: what Ferry sold written back to the external table in one
transaction, refused per row where the shop changed the row since Ferry last read it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sync.external import ExternalTable, values_hash
from sync.models import SyncLink
from sync.services.report import SyncReport
from sync.services.states import sold_states


def _write_back(*, connection, table: ExternalTable, report: SyncReport, dry_run: bool) -> None:
    links = {
        link.product_id: link
        for link in SyncLink.objects.filter(
            connection=connection, state=SyncLink.State.LINKED, product__isnull=False
        )
    }
    sold = sold_states(connection=connection, product_ids=list(links))
    if not sold:
        return
    wb = {k: v for k, v in (connection.writeback or {}).items() if v}
    table.columns_require(wb.values(), role="write-back column")
    current = table.rows_by_key([links[pid].external_key for pid in sold])
    today = timezone.localdate()
    updates: dict[str, tuple[str, dict]] = {}
    for pid, (external, why) in sorted(sold.items(), key=lambda item: links[item[0]].external_key):
        link = links[pid]
        key = link.external_key
        rows = current.get(key) or []
        if len(rows) != 1 or values_hash(rows[0]) != link.values_hash:
            report.counts["conflicts"] += 1
            report.note("conflict", key)
            report.message(
                key=key,
                column=connection.key_column,
                text=(
                    f"Sold in Ferry ({why}), but the external row "
                    f"{'is gone' if not rows else 'changed since Ferry last read it'}; not written "
                    "back. Check it in the external application, then import it again from the "
                    "sync page to accept its values."
                ),
            )
            continue
        values: dict[str, Any] = {}
        if wb.get("status"):
            values[wb["status"]] = external
        if wb.get("last_date"):
            column = table.table.columns[wb["last_date"]]
            values[wb["last_date"]] = _date_for(column, today)
        if wb.get("username"):
            values[wb["username"]] = connection.writeback_username
        if wb.get("logs"):
            before = rows[0].get(wb["logs"]) or ""
            line = f"{today.isoformat()} {external} by Ferry ({why})"
            values[wb["logs"]] = f"{before}\n{line}" if before else line
        updates[key] = (link.values_hash, values)
        report.note("write_back", key)
    if dry_run or not updates:
        return
    written, conflicts = table.write_back(updates)
    by_key = {link.external_key: link for link in links.values()}
    for key, reason in conflicts:
        report.counts["conflicts"] += 1
        report.note("conflict", key)
        report.details["write_back"] = [k for k in report.details["write_back"] if k != key]
        report.message(key=key, column=connection.key_column, text=f"Not written back: {reason}.")
    now = timezone.now()
    from sync.external import json_value

    done = []
    for key, new_values in written:
        link = by_key[key]
        link.state = SyncLink.State.SOLD
        link.written_status = str(updates[key][1].get(wb.get("status", ""), ""))
        link.values_hash = values_hash(new_values)
        link.values = {k: json_value(v) for k, v in new_values.items()}
        link.last_synced_at = now
        done.append(link)
    SyncLink.objects.bulk_update(
        done, ["state", "written_status", "values_hash", "values", "last_synced_at"], batch_size=500
    )
    report.counts["written_back"] += len(done)


def _date_for(column, today: dt.date):
    import sqlalchemy as sa

    if isinstance(column.type, sa.DateTime):
        return timezone.now().replace(microsecond=0)
    if isinstance(column.type, sa.Date):
        return today
    return today.isoformat()
