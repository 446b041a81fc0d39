"""Reading for the sync pages: an organization's connections, their runs and available rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from jobs.errors import FerryError
from sync.external import ExternalTable
from sync.models import SyncConnection, SyncLink, SyncRun
from sync.services import row_states

PAGE_SIZE = 25


def connections_for(*, organization):
    return SyncConnection.objects.filter(organization=organization).annotate(
        linked=Count("links", filter=Q(links__state=SyncLink.State.LINKED)),
        written=Count("links", filter=Q(links__state=SyncLink.State.SOLD)),
    )


def connection_get(*, organization, pk: int) -> SyncConnection:
    """Another organization's connection is a 404."""
    return get_object_or_404(SyncConnection, pk=pk, organization=organization)


def runs_recent(*, organization, connection: SyncConnection | None = None, limit: int = 10):
    runs = SyncRun.objects.filter(organization=organization).select_related("connection", "job")
    if connection is not None:
        runs = runs.filter(connection=connection)
    return runs[:limit]


def run_get(*, organization, pk: int) -> SyncRun:
    return get_object_or_404(
        SyncRun.objects.select_related("connection", "job"), pk=pk, organization=organization
    )


@dataclass
class AvailablePage:
    rows: list[dict[str, Any]]
    states: dict[str, str]
    columns: list[str]
    total: int
    page: int
    pages: int
    key_column: str = ""
    error: str = ""

    @property
    def items(self) -> list[dict[str, Any]]:
        key = self.key_column
        return [
            {
                "key": str(row[key]),
                "state": self.states.get(str(row[key]), "new"),
                "values": [row.get(c) for c in self.columns],
            }
            for row in self.rows
        ]


def available_page(*, connection: SyncConnection, search: str = "", page: int = 1) -> AvailablePage:
    """One page of the external table's available rows, each marked new/changed/linked/sold."""
    try:
        table = ExternalTable(connection=connection)
    except FerryError as exc:
        return AvailablePage([], {}, [], 0, 1, 1, error=exc.message)
    try:
        total = table.available_count(search=search)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = table.available_rows(search=search, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        columns = table.columns
    except FerryError as exc:
        return AvailablePage([], {}, [], 0, 1, 1, error=exc.message)
    finally:
        table.close()
    return AvailablePage(
        rows=rows,
        states=row_states(connection=connection, rows=rows),
        columns=columns,
        total=total,
        page=page,
        pages=pages,
        key_column=connection.key_column,
    )
