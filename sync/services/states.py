"""Which available rows are new, changed, linked or sold in Ferry (the selective import page,
the import and the write-back all ask the same question).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from business.models import SalesOrder, SalesOrderLine, StockItem
from sync.external import values_hash
from sync.models import SyncConnection, SyncLink


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
