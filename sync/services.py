"""The inventory sync: connections, the two-way run, scheduling. Pages, CLI, API and tasks call these.

A sync is a normal import ``DataJob`` (target products) whose rows come from the external table
instead of a file: the same engine parses, validates, matches by SKU, writes in batches, keeps
the row log and records what it changed, so the job can be undone like any import. The
write-back that follows changes the external table in one transaction.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import MANAGE_SYNC
from business.audit import audit_record
from business.models import AuditEvent, Product, SalesOrder, SalesOrderLine, StockItem
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_create, job_log, job_queue, job_run
from sync.errors import SyncBusy, SyncError
from sync.external import (
    ExternalTable,
    sqlite_path_resolve,
    sqlite_sniff,
    upload_dir,
    url_check,
    values_hash,
)
from sync.mapping import (
    PREVIEW_ROWS,
    TableRows,
    mapping_default,
    mapping_preview,
    mapping_validate,
)
from sync.models import INTERVAL_MAX, INTERVAL_MIN, SyncConnection, SyncLink, SyncRun
from wizard.engine import ImportRun, ImportSettings
from wizard.models import ImportRow

logger = logging.getLogger(__name__)
RowStatus = ImportRow.Status
MAX_DETAIL_KEYS = 1000
SYNC_TARGET = "products"


# --- connections -------------------------------------------------------------------------------


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
            mapping_validate(
                mapping=conn.mapping,
                options=conn.options,
                transforms=conn.transforms,
                stock=conn.stock,
                key=conn.key_column,
            )
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
    mapping_validate(
        mapping=connection.mapping,
        options=connection.options,
        transforms=connection.transforms,
        stock=connection.stock,
        key=connection.key_column,
    )
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
    mapping_validate(
        mapping=draft.mapping,
        options=draft.options,
        transforms=draft.transforms,
        stock=draft.stock,
        key=draft.key_column,
    )
    table = ExternalTable(connection=draft)
    try:
        table.columns_require(draft.mapping, role="mapped column")
        columns = table.columns
        rows = table.available_rows(limit=PREVIEW_ROWS)
    finally:
        table.close()
    return mapping_preview(connection=draft, columns=columns, rows=rows)


# --- which rows are new, changed, linked ------------------------------------------------------


def sold_states(
    *, connection: SyncConnection, product_ids: list[int]
) -> dict[int, tuple[str, str]]:
    """Products sold or delivered in Ferry → (external status, why), per the connection's rules.

    The last matching rule wins, so "invoiced=Sold, delivered=Delivered" writes Delivered for a
    product both invoiced and delivered.
    """
    rules = [(s, e) for s, e in connection.sold_statuses]
    order_statuses = [s for s, _ in rules if s in SalesOrder.Status.values]
    stock_statuses = [
        s for s, _ in rules if s in (StockItem.Status.SOLD, StockItem.Status.DELIVERED)
    ]
    found: dict[int, dict[str, str]] = defaultdict(dict)
    if order_statuses and product_ids:
        for pid, status, number in SalesOrderLine.objects.filter(
            organization=connection.organization,
            product_id__in=product_ids,
            order__status__in=order_statuses,
        ).values_list("product_id", "order__status", "order__number"):
            found[pid].setdefault(status, f"order {number} is {status}")
    if stock_statuses and product_ids:
        for pid, status in StockItem.objects.filter(
            organization=connection.organization,
            product_id__in=product_ids,
            status__in=stock_statuses,
        ).values_list("product_id", "status"):
            found[pid].setdefault(status, f"its stock is {status}")
    out = {}
    for pid, states in found.items():
        for status, external in rules:
            if status in states:
                out[pid] = (external, states[status])
    return out


def row_states(*, connection: SyncConnection, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each available row's state for the selective import page: new, changed, linked, sold."""
    keys = [str(r[connection.key_column]) for r in rows]
    links = {
        link.external_key: link
        for link in SyncLink.objects.filter(connection=connection, external_key__in=keys)
    }
    sold = sold_states(
        connection=connection,
        product_ids=[link.product_id for link in links.values() if link.product_id],
    )
    out = {}
    for row, key in zip(rows, keys, strict=True):
        link = links.get(key)
        if link is None or link.product_id is None:
            out[key] = "new"
        elif link.state == SyncLink.State.SOLD or link.product_id in sold:
            out[key] = "sold"
        elif link.values_hash != values_hash(row):
            out[key] = "changed"
        else:
            out[key] = "linked"
    return out


# --- the run -----------------------------------------------------------------------------------


@dataclass
class SyncReport:
    counts: Counter = field(default_factory=Counter)
    details: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    messages: list[dict] = field(default_factory=list)

    def note(self, kind: str, key: str) -> None:
        if len(self.details[kind]) < MAX_DETAIL_KEYS:
            self.details[kind].append(key)

    def message(self, *, key: str, column: str, text: str, level: str = "warning") -> None:
        self.messages.append(
            dict(row_number=None, column=column[:255], value=key, message=text, level=level)
        )


class _CapturingRun(ImportRun):
    """The engine's run, remembering each row's outcome (new, update, unchanged, invalid)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.outcomes: dict[int, str] = {}

    def record(self, rows):
        for row in rows:
            self.outcomes[row.number] = row.status
        super().record(rows)


def _engine_run(*, job, params: dict, headers, source, progress) -> _CapturingRun:
    run = _CapturingRun(
        job=job,
        settings=ImportSettings.from_params(params),
        headers=headers,
        source=source,
        progress=progress,
        row_estimate=len(source),
        failed_rows=False,
    )
    run.execute()
    return run


def _claim(*, connection: SyncConnection, job: DataJob) -> None:
    """Hold the connection for this job: one conditional UPDATE, so only one sync runs at once."""
    holder = connection.running_job_id
    if holder and holder != job.pk:
        # A claim left by a job that has ended (its worker died and it was failed) is released.
        ended = DataJob.objects.filter(pk=holder, status__in=DataJob.FINISHED).exists()
        if ended:
            SyncConnection.objects.filter(pk=connection.pk, running_job_id=holder).update(
                running_job=None
            )
    # The job's own claim (a run again after its worker died) is taken over, not refused.
    claimed = (
        SyncConnection.objects.filter(pk=connection.pk)
        .filter(Q(running_job__isnull=True) | Q(running_job=job))
        .update(running_job=job)
    )
    if not claimed:
        connection.refresh_from_db(fields=["running_job"])
        raise SyncBusy(
            f"Another sync of '{connection.name}' is running (job {connection.running_job_id}); "
            "this one did not start."
        )


def _release(*, connection: SyncConnection, job: DataJob) -> None:
    SyncConnection.objects.filter(pk=connection.pk, running_job=job).update(running_job=None)


def sync_claims_release(*, organization=None) -> int:
    """Release the claims of sync jobs that ended without their worker releasing them.

    A worker killed mid-sync leaves its claim and its run "running"; the stalled-jobs task
    fails the job (jobs.services.job_recover). This runs on every auto-sync tick and before a
    sync starts: the connection is free again and the run says how it ended.
    """
    ended = DataJob.objects.filter(status__in=DataJob.FINISHED)
    connections = SyncConnection.objects.filter(running_job__in=ended)
    runs = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, job__in=ended)
    if organization is not None:
        connections = connections.filter(organization=organization)
        runs = runs.filter(organization=organization)
    for run in runs.select_related("job"):
        SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.FAILED,
            finished_at=run.job.finished_at or timezone.now(),
            message=run.job.error_message or "The sync's job ended before the sync did.",
        )
    return connections.update(running_job=None)


def sync_job_work(*, job: DataJob, progress) -> dict[str, Any]:
    """The body of a sync job (worker task or command line)."""
    params = job.params
    connection = SyncConnection.objects.filter(
        pk=params["connection_id"], organization=job.organization
    ).first()
    if connection is None:
        raise SyncError("The sync connection of this job no longer exists.")
    _permission_check(job)
    _claim(connection=connection, job=job)
    # A run again after a dead worker (job_recover, on_stall=rerun) starts from zero: the run
    # the dead attempt left behind ends as failed, this attempt gets its own.
    SyncRun.objects.filter(job=job, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        message="The worker running this sync stopped; the sync was run again.",
    )
    run = SyncRun.objects.create(
        organization=job.organization,
        connection=connection,
        job=job,
        direction=params.get("direction") or "both",
        dry_run=bool(params.get("dry_run")),
        automatic=bool(params.get("automatic")),
    )
    report = SyncReport()
    try:
        _sync(connection=connection, job=job, run=run, progress=progress, report=report)
    except Exception as exc:
        message = (
            exc.message
            if isinstance(exc, FerryError)
            else f"The sync stopped because of an unexpected error (reference: job {job.pk})."
        )
        report.counts["errors"] += 1
        report.message(key="", column="", text=message, level="error")
        _run_finish(run=run, report=report, status=SyncRun.Status.FAILED, message=message)
        job_log(job=job, entries=report.messages)
        raise
    finally:
        _release(connection=connection, job=job)
        if not run.dry_run:
            now = timezone.now()
            connection.last_sync_at = now
            SyncConnection.objects.filter(pk=connection.pk).update(
                last_sync_at=now, next_sync_at=connection.next_due(now)
            )
    job_log(job=job, entries=report.messages)
    _run_finish(run=run, report=report, status=SyncRun.Status.COMPLETED)
    if not run.dry_run:
        audit_record(
            organization=job.organization,
            user=job.user,
            event_type=AuditEvent.Type.IMPORT,
            obj=job,
            details={"sync": connection.name, **_counts(run)},
        )
    return _summary(run=run, connection=connection, report=report)


def _permission_check(job: DataJob) -> None:
    if job.user is None:
        return  # automatic syncs run for the organization, scheduled by an admin
    from accounts.models import Membership

    membership = Membership.objects.filter(user=job.user, organization=job.organization).first()
    if membership is None or not membership.has_perm(MANAGE_SYNC):
        raise SyncError(f"{job.user} may no longer run inventory syncs in this organization.")


def _counts(run: SyncRun) -> dict[str, int]:
    return {
        name: getattr(run, name)
        for name in ("imported", "updated", "skipped", "written_back", "conflicts", "errors")
    }


def _run_finish(*, run: SyncRun, report: SyncReport, status: str, message: str = "") -> None:
    c = report.counts
    run.imported, run.updated = c["imported"], c["updated"]
    run.skipped, run.written_back = c["skipped"], c["written_back"]
    run.conflicts, run.errors = c["conflicts"], c["errors"]
    run.status, run.message = status, message
    run.finished_at = timezone.now()
    run.details = {k: v for k, v in report.details.items() if v}
    run.save()


def _summary(*, run: SyncRun, connection: SyncConnection, report: SyncReport) -> dict[str, Any]:
    summary = {
        "sync_run_id": run.pk,
        "connection": connection.name,
        "direction": run.direction,
        "dry_run": run.dry_run,
        **_counts(run),
        "available": report.counts["available"],
        "unchanged": report.counts["unchanged"],
        "gone": report.counts["gone"],
        "details": run.details,
        "resource": SYNC_TARGET,
    }
    if run.dry_run:
        summary["would"] = {
            "import": len(run.details.get("import", [])),
            "update": len(run.details.get("update", [])),
            "link": len(run.details.get("link", [])),
            "write_back": len(run.details.get("write_back", [])),
        }
    return summary


def _sync(*, connection, job, run, progress, report: SyncReport) -> None:
    params = job.params
    table = ExternalTable(connection=connection)
    try:
        table.columns_require(connection.mapping, role="mapped column")
        table.columns_require((connection.stock or {}).values(), role="stock column")
        if run.direction in ("both", "import"):
            _import(
                connection=connection,
                table=table,
                job=job,
                progress=progress,
                report=report,
                dry_run=run.dry_run,
                keys=params.get("keys"),
                limit=params.get("limit"),
            )
        if run.direction in ("both", "export"):
            progress.check_cancel(force=True)
            _write_back(connection=connection, table=table, report=report, dry_run=run.dry_run)
    finally:
        table.close()


def _import(*, connection, table, job, progress, report, dry_run, keys, limit) -> None:
    key_column = connection.key_column
    rows = table.available_rows(keys=keys)
    report.counts["available"] = len(rows)
    by_key: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_key[str(row[key_column])].append(row)
    for key, group in by_key.items():
        if len(group) > 1:
            report.counts["errors"] += 1
            report.note("error", key)
            report.message(
                key=key,
                column=key_column,
                level="error",
                text=(
                    f"{key_column} '{key}' appears {len(group)} times in the external table; none "
                    "of them was imported (the key must be unique there)."
                ),
            )
    unique = {k: g[0] for k, g in by_key.items() if len(g) == 1}
    if keys is not None:
        for key in sorted({str(k) for k in keys} - set(by_key)):
            report.counts["skipped"] += 1
            report.message(
                key=key, column=key_column, text=f"'{key}' is not available in the external table."
            )
    links = {link.external_key: link for link in SyncLink.objects.filter(connection=connection)}
    existing = dict(
        Product.objects.filter(
            organization=connection.organization, sku__in=list(unique)
        ).values_list("sku", "pk")
    )
    product_ids = [link.product_id for link in links.values() if link.product_id] + list(
        existing.values()
    )
    sold = sold_states(connection=connection, product_ids=product_ids)
    feed: list[dict] = []
    accepted: list[tuple[SyncLink, dict]] = []
    for key, row in unique.items():
        link = links.get(key)
        product_id = (link.product_id if link else None) or existing.get(key)
        if (link is not None and link.state == SyncLink.State.SOLD) or product_id in sold:
            # The seed's rule: what Ferry sold is never brought back as available.
            why = sold[product_id][1] if product_id in sold else "it was written back as sold"
            report.counts["skipped"] += 1
            report.note("skipped", key)
            changed = link is not None and link.values_hash != values_hash(row)
            if changed and keys is not None and link.state == SyncLink.State.LINKED:
                # Chosen by hand: accept the external values so the write-back can go ahead.
                accepted.append((link, row))
                report.message(
                    key=key,
                    column=key_column,
                    text=f"Sold in Ferry ({why}); its current external values were accepted, "
                    "the write-back follows.",
                )
            else:
                report.message(
                    key=key,
                    column=key_column,
                    text=f"Sold in Ferry ({why}); not imported again as available.",
                )
            continue
        if link is not None and link.product_id and link.values_hash == values_hash(row):
            report.counts["unchanged"] += 1
            continue
        feed.append(row)
    if limit:
        feed = feed[: int(limit)]
    if not dry_run and accepted:
        for link, row in accepted:
            _link_refresh(link, row)
    if keys is None and limit is None:
        _gone(
            connection=connection,
            table=table,
            links=links,
            available=set(by_key),
            report=report,
            dry_run=dry_run,
        )
    if not feed:
        progress.set_total(0)
        return
    source = TableRows(connection=connection, columns=table.columns, rows=feed)
    products = _engine_run(
        job=job,
        params=source.product_params(dry_run=dry_run),
        headers=source.headers,
        source=source.products(),
        progress=progress,
    )
    good: list[int] = []
    for number, status in sorted(products.outcomes.items()):
        key = source.key_of(number)
        if status == RowStatus.INVALID:
            report.counts["errors"] += 1
            report.note("error", key)
            continue
        good.append(number)
        # A dry run counts nothing as done: what it would do is in the details ("would").
        if status == RowStatus.NEW:
            report.counts["imported"] += 0 if dry_run else 1
            report.note("import", key)
        elif status == RowStatus.UPDATE:
            report.counts["updated"] += 0 if dry_run else 1
            report.note("update", key)
        else:
            report.counts["unchanged"] += 1
        if key not in links or not links[key].product_id:
            report.note("link", key)
    if connection.stock and good:
        if dry_run:
            # A dry run writes no product, so only stock of products that exist can be checked.
            present = set(
                Product.objects.filter(
                    organization=connection.organization,
                    sku__in=[source.key_of(n) for n in good],
                ).values_list("sku", flat=True)
            )
            stock_numbers = [n for n in good if source.key_of(n) in present]
        else:
            stock_numbers = good
        if stock_numbers:
            stock = _engine_run(
                job=job,
                params=source.stock_params(dry_run=dry_run),
                headers=source.stock_headers,
                source=source.stock(stock_numbers),
                progress=None,
            )
            for number, status in stock.outcomes.items():
                if status == RowStatus.INVALID:
                    report.counts["errors"] += 1
                    report.note("stock_error", source.key_of(number))
    if dry_run:
        return
    _links_write(connection=connection, source=source, numbers=good, links=links)
    _changed_meanwhile(table=table, source=source, numbers=good, report=report)


def _link_refresh(link: SyncLink, row: dict) -> None:
    from sync.external import json_value

    link.values_hash = values_hash(row)
    link.values = {k: json_value(v) for k, v in row.items()}
    link.last_synced_at = timezone.now()
    link.save(update_fields=["values_hash", "values", "last_synced_at"])


def _links_write(*, connection, source: TableRows, numbers: list[int], links: dict) -> None:
    from sync.external import json_value

    keys = [source.key_of(n) for n in numbers]
    products = dict(
        Product.objects.filter(organization=connection.organization, sku__in=keys).values_list(
            "sku", "pk"
        )
    )
    now = timezone.now()
    new, changed = [], []
    for number in numbers:
        key = source.key_of(number)
        row = source.rows[number - 1]
        values = {k: json_value(v) for k, v in row.items()}
        link = links.get(key)
        if link is None:
            link = SyncLink(connection=connection, external_key=key)
            new.append(link)
        else:
            changed.append(link)
        link.product_id = products.get(key)
        link.values_hash = values_hash(row)
        link.values = values
        link.state = SyncLink.State.LINKED
        link.last_synced_at = now
    with transaction.atomic():
        SyncLink.objects.bulk_create(new, batch_size=500)
        SyncLink.objects.bulk_update(
            changed, ["product", "values_hash", "values", "state", "last_synced_at"], batch_size=500
        )


def _changed_meanwhile(*, table, source: TableRows, numbers: list[int], report: SyncReport) -> None:
    """Rows the shop changed while Ferry imported them: their link keeps what was imported, so
    the next sync sees them as changed; a write-back would be refused as a conflict."""
    keys = [source.key_of(n) for n in numbers]
    now_rows = table.rows_by_key(keys)
    for number in numbers:
        key = source.key_of(number)
        current = now_rows.get(key) or []
        if len(current) == 1 and values_hash(current[0]) == values_hash(source.rows[number - 1]):
            continue
        report.counts["conflicts"] += 1
        report.note("conflict", key)
        report.message(
            key=key,
            column=table.connection.key_column,
            text="Changed in the external database during this sync; Ferry kept the values it "
            "read, and the next sync reads the new ones.",
        )


def _gone(*, connection, table, links: dict, available: set[str], report, dry_run: bool) -> None:
    missing = [
        k for k, link in links.items() if link.state == SyncLink.State.LINKED and k not in available
    ]
    if not missing:
        return
    present = table.rows_by_key(missing)
    fc = connection.filter_column
    for key in missing:
        rows = present.get(key)
        if not rows:
            text = "No longer in the external table."
        else:
            status = rows[0].get(fc) if fc else None
            text = f"No longer available in the external table ({fc} is now '{status}')."
        report.counts["gone"] += 1
        report.note("gone", key)
        report.message(key=key, column=connection.key_column, text=text)
    if not dry_run:
        SyncLink.objects.filter(connection=connection, external_key__in=missing).update(
            state=SyncLink.State.GONE
        )


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


# --- undo --------------------------------------------------------------------------------------


def sync_links_owned(job) -> dict[type, set[int]]:
    """The links a sync job made: those pointing at the products it created.

    Registered with the undo plan (wizard.engine.undo.UNDO_OWNERS), so undoing a sync import
    deletes them with their products instead of listing them as conflicts; the next sync then
    sees those rows as new again.
    """
    params = job.params or {}
    if params.get("source") != "sync" or not params.get("connection_id"):
        return {}
    from wizard.models import ImportChange

    created = ImportChange.objects.filter(
        job=job, resource=SYNC_TARGET, action=ImportChange.Action.CREATED
    ).values("object_id")
    links = SyncLink.objects.filter(
        connection_id=params["connection_id"],
        connection__organization_id=job.organization_id,
        product_id__in=created,
    ).values_list("pk", flat=True)
    return {SyncLink: set(links)}


# --- starting runs -----------------------------------------------------------------------------

DIRECTIONS = ("both", "import", "export")


def _job_for(*, connection, user, direction, dry_run, keys, limit, automatic) -> DataJob:
    if direction not in DIRECTIONS:
        raise SyncError(f"Unknown direction '{direction}'; use one of {', '.join(DIRECTIONS)}.")
    if limit is not None and int(limit) < 1:
        raise SyncError("The limit must be 1 or more.")
    return job_create(
        organization=connection.organization,
        user=user,
        job_type=DataJob.Type.IMPORT,
        target=SYNC_TARGET,
        format="sync",
        input_filename=f"sync: {connection.name}",
        params={
            "source": "sync",
            "connection_id": connection.pk,
            "connection": connection.name,
            "direction": direction,
            "dry_run": bool(dry_run),
            "keys": [str(k) for k in keys] if keys is not None else None,
            "limit": int(limit) if limit else None,
            "automatic": automatic,
            "resource": SYNC_TARGET,
            "permission": MANAGE_SYNC,
        },
    )


def sync_start(
    *,
    connection: SyncConnection,
    user,
    direction: str = "both",
    dry_run: bool = False,
    keys: list[str] | None = None,
    limit: int | None = None,
    automatic: bool = False,
) -> DataJob:
    """Queue a sync as a background job. Refused at once if one is already running."""
    from sync.tasks import sync_task

    sync_claims_release(organization=connection.organization)
    connection.refresh_from_db(fields=["running_job"])
    if (
        connection.running_job_id
        and DataJob.objects.filter(pk=connection.running_job_id, status__in=DataJob.ACTIVE).exists()
    ):
        raise SyncBusy(f"A sync of '{connection.name}' is already running.")
    job = _job_for(
        connection=connection,
        user=user,
        direction=direction,
        dry_run=dry_run,
        keys=keys,
        limit=limit,
        automatic=automatic,
    )
    # A sync has no input file and is idempotent on both sides (matched by key; the write-back
    # is one transaction, refused on changed rows): a dead worker's sync is run again from the
    # start by sync_task, never resumed from the engine's checkpoint.
    return job_queue(job=job, task=sync_task, on_stall=DataJob.OnStall.RERUN)


def sync_run_now(
    *,
    connection: SyncConnection,
    user,
    direction: str = "both",
    dry_run: bool = False,
    keys: list[str] | None = None,
    limit: int | None = None,
) -> DataJob:
    """Run a sync in this process (the command line), as the same kind of job."""
    job = _job_for(
        connection=connection,
        user=user,
        direction=direction,
        dry_run=dry_run,
        keys=keys,
        limit=limit,
        automatic=False,
    )
    job_run(job.pk, lambda j, progress: sync_job_work(job=j, progress=progress))
    job.refresh_from_db()
    return job


def syncs_due_queue(*, now=None) -> list[DataJob]:
    """Queue a sync for each connection whose interval has passed (the periodic task).

    Moving ``next_sync_at`` on is a conditional UPDATE, so with several schedulers a connection
    is queued once per slot; the claim in the job itself keeps two runs from overlapping.
    """
    now = now or timezone.now()
    queued = []
    sync_claims_release()
    due = SyncConnection.objects.filter(auto_sync=True).filter(
        Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now)
    )
    for connection in due.select_related("organization"):
        following = now + dt.timedelta(minutes=connection.interval_minutes)
        taken = SyncConnection.objects.filter(
            pk=connection.pk, next_sync_at=connection.next_sync_at
        ).update(next_sync_at=following)
        if not taken:
            continue
        try:
            queued.append(sync_start(connection=connection, user=None, automatic=True))
        except SyncBusy:
            logger.info("Sync of connection %s still running; skipped this slot", connection.pk)
        except IntegrityError:
            logger.exception("Could not queue the sync of connection %s", connection.pk)
    return queued
