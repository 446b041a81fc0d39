"""Sync external inventory now: ``sync_inventory [--connection NAME] [--import-only | --export-only]
[--dry-run] [--limit N] [--json]``.

Exit codes as ``import_data``: 0 nothing failed; 2 rows failed or conflicted; 1 the sync could
not run (the message is on stderr, or in the JSON).
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from jobs.models import DataJob
from sync.management.commands._common import admin_get, organization_get
from sync.models import SyncConnection
from sync.services import sync_run_now


class Command(BaseCommand):
    help = "Import available items from external inventory databases and write back sold ones."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="organization slug (default: every organization)")
        parser.add_argument("--connection", help="the connection's name (default: all of them)")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--import-only", action="store_true")
        group.add_argument("--export-only", action="store_true")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--limit", type=int)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        connections = SyncConnection.objects.select_related("organization").order_by("pk")
        if o["org"]:
            connections = connections.filter(organization=organization_get(o["org"]))
        if o["connection"]:
            connections = connections.filter(name=o["connection"])
        connections = list(connections)
        if not connections:
            raise CommandError(
                f"No sync connection named '{o['connection']}'."
                if o["connection"]
                else "There is no sync connection yet (create one with sync_connection create)."
            )
        if o["limit"] is not None and o["limit"] < 1:
            raise CommandError("--limit must be 1 or more.")
        direction = "import" if o["import_only"] else "export" if o["export_only"] else "both"
        results, code = [], 0
        for conn in connections:
            job = sync_run_now(
                connection=conn,
                user=admin_get(conn.organization),
                direction=direction,
                dry_run=o["dry_run"],
                limit=o["limit"],
            )
            result = self._result(conn, job)
            results.append(result)
            if job.status != DataJob.Status.COMPLETED:
                code = max(code, 1)
                if not o["json"]:
                    self.stderr.write(f"{conn.name}: {job.error_message}")
            elif result["errors"] or result["conflicts"]:
                code = max(code, 2) if code != 1 else code
            if not o["json"] and job.status == DataJob.Status.COMPLETED:
                self._readable(result)
        if o["json"]:
            self.stdout.write(json.dumps(results[0] if len(results) == 1 else results, default=str))
        if code:
            sys.exit(code)

    def _result(self, conn: SyncConnection, job: DataJob) -> dict:
        s = job.summary or {}
        out = {
            "job_id": job.pk,
            "connection": conn.name,
            "status": job.status,
            "direction": job.params.get("direction"),
            "dry_run": bool(job.params.get("dry_run")),
        }
        for name in (
            "available",
            "imported",
            "updated",
            "unchanged",
            "skipped",
            "written_back",
            "conflicts",
            "errors",
            "gone",
        ):
            out[name] = int(s.get(name) or 0)
        if s.get("would") is not None:
            out["would"] = s["would"]
        out["details"] = s.get("details") or {}
        out["messages"] = [
            {
                "key": e.value,
                "row": e.row_number,
                "column": e.column,
                "level": e.level,
                "message": e.message,
            }
            for e in job.log_entries.order_by("pk")[:100]
        ]
        if job.error_message:
            out["message"] = job.error_message
        return out

    def _readable(self, r: dict) -> None:
        head = "Dry run of" if r["dry_run"] else "Sync of"
        self.stdout.write(f"{head} '{r['connection']}' (job {r['job_id']}, {r['direction']}):")
        if r["dry_run"]:
            w = r.get("would") or {}
            self.stdout.write(
                f"  would import {w.get('import', 0)}, update {w.get('update', 0)}, link "
                f"{w.get('link', 0)}, write back {w.get('write_back', 0)}; nothing was changed"
            )
        else:
            self.stdout.write(
                f"  imported {r['imported']}, updated {r['updated']}, written back {r['written_back']}"
            )
        self.stdout.write(
            f"  available {r['available']}, unchanged {r['unchanged']}, skipped {r['skipped']}, "
            f"conflicts {r['conflicts']}, errors {r['errors']}, no longer available {r['gone']}"
        )
        for m in r["messages"][:20]:
            self.stdout.write(f"  {m['level']}: {m['key'] or ''} {m['message']}")
