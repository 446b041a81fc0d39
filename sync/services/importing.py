"""The import half of a sync: available rows fed through the import engine (products, then
stock), links to the products kept, rows gone from the external table noted.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from business.models import Product
from sync.external import values_hash
from sync.mapping import TableRows
from sync.models import SyncLink
from sync.services.report import SyncReport
from sync.services.states import sold_states
from wizard.engine import ImportRun, ImportSettings
from wizard.models import ImportRow

RowStatus = ImportRow.Status


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
