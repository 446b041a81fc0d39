"""Sync connections: create (path, URL or an uploaded SQLite file), update, test, and
preview a mapping before it is saved.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
from dataclasses import dataclass

from business.models import SalesOrder, StockItem
from sync.errors import SyncError
from sync.external import (
    ExternalTable,
    sqlite_path_resolve,
    sqlite_sniff,
    upload_dir,
    url_check,
)
from sync.mapping import PREVIEW_ROWS, mapping_default, mapping_preview, mapping_validate
from sync.models import INTERVAL_MAX, INTERVAL_MIN, SyncConnection


def connection_create(
    *,
    organization,
    name: str,
    table: str,
    key_column: str,
    path: str = "",
    url: str = "",
    upload=None,
    filter_column: str = "status",
    filter_value: str = "In-stock",
    mapping: dict[str, str] | None = None,
    options: dict | None = None,
    transforms: dict | None = None,
    stock: dict | None = None,
    sold_statuses: list[list[str]] | None = None,
) -> SyncConnection:
    """Register an external table; it is opened and reflected first, so a bad one is refused."""
    name = (name or "").strip()
    if not name:
        raise SyncError("Give the connection a name.")
    if SyncConnection.objects.filter(organization=organization, name=name).exists():
        raise SyncError(f"There is already a sync connection named '{name}'.")
    given = [bool(path), bool(url), upload is not None]
    if sum(given) != 1:
        raise SyncError(
            "Give exactly one of: an uploaded SQLite file, a path in the sync folder, a URL."
        )
    conn = SyncConnection(
        organization=organization,
        name=name,
        table=(table or "").strip(),
        key_column=(key_column or "").strip(),
        filter_column=(filter_column or "").strip(),
        filter_value=filter_value or "",
    )
    if not conn.table or not conn.key_column:
        raise SyncError("Give the table and its key column.")
    stored = None
    if url:
        url_check(url)
        conn.kind, conn.url = SyncConnection.Kind.URL, url.strip()
    else:
        conn.kind = SyncConnection.Kind.SQLITE
        if upload is not None:
            stored = _upload_store(organization=organization, name=name, upload=upload)
            conn.path = stored
        else:
            sqlite_path_resolve(path=path, organization_id=organization.pk)
            conn.path = path.strip()
    try:
        table_obj = ExternalTable(connection=conn)
        try:
            sample = [
                [r.get(c) for c in table_obj.columns] for r in table_obj.available_rows(limit=20)
            ]
            defaults = mapping_default(
                columns=table_obj.columns, key=conn.key_column, sample_rows=sample
            )
            conn.mapping = dict(defaults["mapping"])
            if mapping:
                for column, field_name in mapping.items():
                    conn.mapping = {
                        c: f for c, f in conn.mapping.items() if f != field_name or not field_name
                    }
                    conn.mapping.pop(column, None)
                    if field_name:
                        conn.mapping[column] = field_name
            conn.options = options if options is not None else defaults["options"]
            if "name" in conn.mapping.values():
                conn.options.pop("name", None)
            conn.transforms = transforms or {}
            conn.stock = stock if stock is not None else defaults["stock"]
            if sold_statuses:
                conn.sold_statuses = sold_statuses
            _mapping_check(conn)
            table_obj.columns_require(conn.mapping, role="mapped column")
            table_obj.columns_require(conn.stock.values(), role="stock column")
            for column in conn.transforms:
                table_obj.columns_require([column], role="transformed column")
        finally:
            table_obj.close()
        _sold_statuses_check(conn.sold_statuses)
        conn.full_clean(exclude=["organization"])
        conn.save()
    except BaseException:
        if stored:
            with contextlib.suppress(OSError):
                (upload_dir(organization.pk) / stored.rsplit("/", 1)[-1]).unlink()
        raise
    return conn


def _upload_store(*, organization, name: str, upload) -> str:
    """Keep an uploaded SQLite file in the organization's folder under FERRY_SYNC_ROOT."""
    from django.utils.text import slugify

    folder = upload_dir(organization.pk)
    base = slugify(name) or "inventory"
    target = folder / f"{base}.sqlite3"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{base}-{n}.sqlite3"
    with open(target, "wb") as out:
        if hasattr(upload, "chunks"):
            for chunk in upload.chunks():
                out.write(chunk)
        else:
            shutil.copyfileobj(upload, out)
    try:
        sqlite_sniff(target, shown=getattr(upload, "name", target.name))
    except BaseException:
        target.unlink()
        raise
    return str(target.relative_to(folder.parent.parent))


def _mapping_check(connection: SyncConnection) -> None:
    """The connection's mapping, options, transforms and stock columns, as they stand on it."""
    mapping_validate(
        mapping=connection.mapping,
        options=connection.options,
        transforms=connection.transforms,
        stock=connection.stock,
        key=connection.key_column,
    )


def _sold_statuses_check(pairs: list) -> None:
    known = set(SalesOrder.Status.values) | {StockItem.Status.SOLD, StockItem.Status.DELIVERED}
    for pair in pairs:
        if len(pair) != 2 or not str(pair[1]).strip():
            raise SyncError(
                "Each sold status is 'ferry-status=External value', e.g. invoiced=Sold."
            )
        if pair[0] not in known:
            raise SyncError(
                f"'{pair[0]}' is not a Ferry status; use an order status "
                f"({', '.join(SalesOrder.Status.values)}) or a stock status (sold, delivered)."
            )


def connection_update(
    *,
    connection: SyncConnection,
    auto_sync: bool | None = None,
    interval_minutes: int | None = None,
    mapping: dict | None = None,
    filter_column: str | None = None,
    filter_value: str | None = None,
    options: dict | None = None,
    transforms: dict | None = None,
    stock: dict | None = None,
    sold_statuses: list[list[str]] | None = None,
    writeback: dict[str, str] | None = None,
    writeback_username: str | None = None,
) -> SyncConnection:
    """Change a connection's settings; a mapping part not given stays as it is."""
    if interval_minutes is not None:
        if not INTERVAL_MIN <= int(interval_minutes) <= INTERVAL_MAX:
            raise SyncError(f"The interval is {INTERVAL_MIN:,} to {INTERVAL_MAX:,} minutes.")
        connection.interval_minutes = int(interval_minutes)
    if auto_sync is not None:
        connection.auto_sync = bool(auto_sync)
    if filter_column is not None:
        connection.filter_column = filter_column.strip()
    if filter_value is not None:
        connection.filter_value = filter_value
    for name, value in (
        ("mapping", mapping),
        ("options", options),
        ("transforms", transforms),
        ("stock", stock),
        ("sold_statuses", sold_statuses),
        ("writeback", writeback),
    ):
        if value is not None:
            setattr(connection, name, value)
    if writeback_username is not None:
        connection.writeback_username = writeback_username.strip()[:100] or "ferry"
    _mapping_check(connection)
    _sold_statuses_check(connection.sold_statuses)
    table = ExternalTable(connection=connection)
    try:
        # The parts being changed must name the table's columns; the write-back columns of a
        # connection only ever syncing one way are checked when a write-back runs.
        table.columns_require(connection.mapping, role="mapped column")
        if stock is not None:
            table.columns_require(stock.values(), role="stock column")
        if transforms is not None:
            table.columns_require(transforms, role="transformed column")
        for opts in (options or {}).values():
            table.columns_require(opts.get("join") or (), role="joined column")
        if writeback is not None:
            table.columns_require([c for c in writeback.values() if c], role="write-back column")
    finally:
        table.close()
    connection.next_sync_at = connection.next_due() if connection.auto_sync else None
    connection.save()
    return connection


@dataclass
class ConnectionTest:
    columns: list[str]
    available: int
    total_linked: int


def connection_test(*, connection: SyncConnection) -> ConnectionTest:
    """Open the table read-only: its columns and how many rows are available."""
    table = ExternalTable(connection=connection)
    try:
        return ConnectionTest(
            columns=table.columns,
            available=table.available_count(),
            total_linked=connection.links.count(),
        )
    finally:
        table.close()


def connection_mapping_preview(*, connection: SyncConnection, spec: dict) -> list[dict]:
    """The first available rows read through a mapping not saved yet (nothing is written)."""
    draft = copy.copy(connection)
    for name, value in spec.items():
        setattr(draft, name, value)
    _mapping_check(draft)
    table = ExternalTable(connection=draft)
    try:
        table.columns_require(draft.mapping, role="mapped column")
        columns = table.columns
        rows = table.available_rows(limit=PREVIEW_ROWS)
    finally:
        table.close()
    return mapping_preview(connection=draft, columns=columns, rows=rows)
