"""What a document shows: an order's lines, amounts and totals per tax rate, all in Decimal.

Rounding is explicit and happens once per line, half up to the currency's minor unit, the way
an invoice is rounded: a line's gross is quantity × unit price rounded; its net is gross less
its discount; its tax is the amount stored on the line (what the order owes, as imported).
Totals are sums of those rounded line amounts, so the printed lines always add up to the
printed totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet

from accounts.formats import currency_places, quantize
from business.filters import InvalidFilter, filters_apply
from business.models import SalesOrder, SalesOrderLine, StockItem
from business.resources import resource_get
from jobs.errors import FerryError, LimitExceeded

if TYPE_CHECKING:
    from reports.documents.kinds import DocumentExporter as Document

ZERO = Decimal("0")
NO_LOCATION = "No location"
# Orders loaded (with their lines) per query while a batch renders.
ORDER_CHUNK = 200
# A batch is a background job, but not an unbounded one.
MAX_BATCH_ORDERS = 20_000


class DocumentOrdersInvalid(FerryError):
    pass


class DocumentBatchTooLarge(LimitExceeded):
    def __init__(self, count: int):
        super().__init__(
            f"{count:,} orders match; a batch prints at most {MAX_BATCH_ORDERS:,}. "
            "Narrow the filters."
        )


@dataclass
class DocumentLine:
    number: int
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    location: str = ""
    warehouse: str = ""


@dataclass
class TaxBand:
    rate: Decimal
    net: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


@dataclass
class PickGroup:
    location: str
    lines: list[DocumentLine] = field(default_factory=list)


@dataclass
class OrderDocument:
    order: SalesOrder
    document: type[Document]
    lines: list[DocumentLine]
    bands: list[TaxBand]
    gross_total: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    quantity_total: Decimal
    second_date: dt.date | None
    groups: list[PickGroup] = field(default_factory=list)

    @property
    def has_discount(self) -> bool:
        return self.discount_total != 0


def location_zone(location: str) -> str:
    """The aisle/rack a bin belongs to: ``C12-3`` → ``C12`` (bins are ``<rack>-<shelf>``)."""
    return location.split("-", 1)[0].strip()


def tax_rate_of(line: SalesOrderLine, net: Decimal) -> Decimal:
    """The line's tax rate in percent: as stored, or derived from its amounts (one decimal)."""
    if line.tax_rate is not None:
        return line.tax_rate.normalize() if line.tax_rate else ZERO
    if not net:
        return ZERO
    return quantize(line.tax * 100 / net, 1).normalize()


def order_document(
    *,
    order: SalesOrder,
    document: type[Document],
    currency: str,
    locations: Mapping[tuple[int, int | None], tuple[str, str]] | None = None,
) -> OrderDocument:
    """The lines and totals of one order as ``document`` prints them (lines prefetched)."""
    places = currency_places(currency)
    lines: list[DocumentLine] = []
    bands: dict[Decimal, TaxBand] = {}
    totals = {"gross": ZERO, "discount": ZERO, "net": ZERO, "tax": ZERO, "qty": ZERO}
    for line in order.lines.all():
        gross = quantize(line.quantity * line.unit_price, places)
        discount = quantize(line.discount, places)
        net = gross - discount
        tax = quantize(line.tax, places)
        rate = tax_rate_of(line, net)
        location, warehouse = (locations or {}).get((line.product_id, order.warehouse_id), ("", ""))
        lines.append(
            DocumentLine(
                number=line.line_number,
                sku=line.product.sku,
                description=line.product.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                gross=gross,
                discount=discount,
                net=net,
                tax_rate=rate,
                tax=tax,
                total=net + tax,
                location=location,
                warehouse=warehouse,
            )
        )
        band = bands.setdefault(rate, TaxBand(rate=rate))
        band.net += net
        band.tax += tax
        totals["gross"] += gross
        totals["discount"] += discount
        totals["net"] += net
        totals["tax"] += tax
        totals["qty"] += line.quantity
    groups: list[PickGroup] = []
    if document.identifier == "picking_list":
        by_location: dict[str, PickGroup] = {}
        # Walk the warehouse in bin order; lines with no known bin come last.
        for doc_line in sorted(lines, key=lambda x: (not x.location, x.location, x.sku)):
            key = location_zone(doc_line.location) or NO_LOCATION
            by_location.setdefault(key, PickGroup(location=key)).lines.append(doc_line)
        groups = list(by_location.values())
    return OrderDocument(
        order=order,
        document=document,
        lines=lines,
        bands=sorted(bands.values(), key=lambda b: b.rate),
        gross_total=totals["gross"],
        discount_total=totals["discount"],
        net_total=totals["net"],
        tax_total=totals["tax"],
        grand_total=totals["net"] + totals["tax"],
        quantity_total=totals["qty"],
        second_date=document.second_date(order.order_date),
        groups=groups,
    )


def documents_orders(
    *,
    organization,
    ids: Iterable[int] | None = None,
    filters: Mapping[str, Any] | None = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
) -> QuerySet[SalesOrder]:
    """The organization's orders chosen by ids (a selection) or by the records page's filters,
    within an order-date range, in order-number order. Another organization's ids simply match
    nothing."""
    if ids is not None:
        qs = SalesOrder.objects.filter(organization=organization, pk__in=list(ids))
        if date_from:
            qs = qs.filter(order_date__gte=date_from)
        if date_to:
            qs = qs.filter(order_date__lte=date_to)
    else:
        filters = dict(filters or {})
        # The range goes through the records page's own date filters (one rule for dates).
        if date_from:
            filters["order_date_from"] = str(date_from)
        if date_to:
            filters["order_date_to"] = str(date_to)
        try:
            qs = filters_apply(
                resource=resource_get("sales-orders"),
                organization=organization,
                data=filters or {},
                ignore=("sort", "page", "per_page"),
            )
        except InvalidFilter as exc:
            raise DocumentOrdersInvalid(exc.message) from exc
    return qs.order_by("number", "pk")


def _with_lines(qs: QuerySet[SalesOrder]) -> QuerySet[SalesOrder]:
    return qs.select_related("customer", "warehouse").prefetch_related(
        Prefetch(
            "lines",
            queryset=SalesOrderLine.objects.select_related("product").order_by("line_number"),
        )
    )


def _locations(
    *, organization, orders: list[SalesOrder]
) -> dict[tuple[int, int | None], tuple[str, str]]:
    """(product, order's warehouse) → (bin, warehouse code), one query per chunk of orders.

    An order without a warehouse picks from wherever the product is stocked most."""
    product_ids = {line.product_id for o in orders for line in o.lines.all()}
    if not product_ids:
        return {}
    items = (
        StockItem.objects.filter(organization=organization, product_id__in=product_ids)
        .select_related("warehouse")
        .order_by("product_id", "-quantity", "pk")
        .values_list("product_id", "warehouse_id", "location", "warehouse__code")
    )
    found: dict[tuple[int, int | None], tuple[str, str]] = {}
    for product_id, warehouse_id, location, code in items:
        found[(product_id, warehouse_id)] = (location, code)
        found.setdefault((product_id, None), (location, code))
    return found


def documents_iter(
    *, organization, orders: QuerySet[SalesOrder], document: type[Document]
) -> Iterator[OrderDocument]:
    """Every order's document, loading ``ORDER_CHUNK`` orders with their lines per query."""
    pks = list(orders.values_list("pk", flat=True))
    for start in range(0, len(pks), ORDER_CHUNK):
        chunk_pks = pks[start : start + ORDER_CHUNK]
        chunk = {o.pk: o for o in _with_lines(SalesOrder.objects.filter(pk__in=chunk_pks))}
        ordered = [chunk[pk] for pk in chunk_pks if pk in chunk]
        locations = (
            _locations(organization=organization, orders=ordered)
            if document.identifier == "picking_list"
            else None
        )
        for order in ordered:
            yield order_document(
                order=order,
                document=document,
                currency=organization.currency,
                locations=locations,
            )


def document_order_get(*, organization, pk) -> SalesOrder:
    """One order of the organization with its lines; another organization's is a 404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        _with_lines(SalesOrder.objects.filter(organization=organization)), pk=pk
    )
