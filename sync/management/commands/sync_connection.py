"""Register an external inventory database: ``sync_connection create --org … --name … --url …``.

``--url`` takes a PostgreSQL/MySQL URL, or ``sqlite:///relative/path.sqlite3`` (or a bare path)
for a file inside FERRY_SYNC_ROOT. Prints the resulting mapping. Exit code 1 with the reason on
stderr when the connection cannot be used.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from jobs.errors import FerryError
from sync.management.commands._common import organization_get
from sync.services import connection_create


def _pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        left, sep, right = item.partition("=")
        if not sep or not left.strip():
            raise CommandError(f"{what} needs \"left=right\", got '{item}'.")
        out.append((left.strip(), right.strip()))
    return out


class Command(BaseCommand):
    help = "Register an external inventory table to sync with (prints the mapping)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("--org", help="organization slug (default: the only one)")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--url",
            required=True,
            help="postgresql://…, mysql://…, or sqlite:///path inside FERRY_SYNC_ROOT",
        )
        parser.add_argument("--table", required=True)
        parser.add_argument("--key", required=True, help="the table's key column")
        parser.add_argument(
            "--filter",
            default="status=In-stock",
            help='what counts as available, "column=value" ("" for every row)',
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar='"column=field"',
            help="map a column to a product field (repeatable); an empty field ignores the column",
        )
        parser.add_argument(
            "--sold-status",
            action="append",
            default=[],
            metavar="STATUS=External",
            help="a Ferry status and the external status written back (repeatable)",
        )
        parser.add_argument(
            "--stock", action="append", default=[], metavar="quantity=column|warehouse=column"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        org = organization_get(o["org"])
        url = o["url"].strip()
        path = ""
        if url.startswith("sqlite:///"):
            path, url = url.removeprefix("sqlite:///"), ""
        elif "://" not in url:
            path, url = url, ""
        filter_column, filter_value = "", ""
        if o["filter"].strip():
            (filter_column, filter_value), *_ = _pairs([o["filter"]], "--filter")
        mapping = dict(_pairs(o["map"], "--map")) or None
        sold = [list(p) for p in _pairs(o["sold_status"], "--sold-status")] or None
        stock = dict(_pairs(o["stock"], "--stock")) or None
        try:
            conn = connection_create(
                organization=org,
                name=o["name"],
                path=path,
                url=url,
                table=o["table"],
                key_column=o["key"],
                filter_column=filter_column,
                filter_value=filter_value,
                mapping=mapping,
                stock=stock,
                sold_statuses=sold,
            )
        except FerryError as exc:
            self.stderr.write(exc.message)
            sys.exit(1)
        out = {
            "id": conn.pk,
            "name": conn.name,
            "source": conn.source_label,
            "table": conn.table,
            "key": conn.key_column,
            "filter": {conn.filter_column: conn.filter_value} if conn.filter_column else {},
            "mapping": conn.mapping,
            "options": conn.options,
            "stock": conn.stock,
            "sold_statuses": dict(conn.sold_statuses),
        }
        if o["json"]:
            self.stdout.write(json.dumps(out))
            return
        self.stdout.write(
            f"Sync connection '{conn.name}' created ({out['source']}, table {conn.table})."
        )
        self.stdout.write("Mapping (external column → product field):")
        for column, field in conn.mapping.items():
            self.stdout.write(f"  {column} → {field}")
        for field, opts in conn.options.items():
            self.stdout.write(f"  {field} ← {json.dumps(opts)}")
        if conn.stock:
            self.stdout.write(
                f"Stock: quantity from '{conn.stock['quantity']}', warehouse by code from "
                f"'{conn.stock['warehouse']}'."
            )
        self.stdout.write(
            "Other columns are kept in the product's attributes. Written back: "
            + ", ".join(f"{s} → {e}" for s, e in conn.sold_statuses)
        )
