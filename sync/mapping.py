"""How an external table's columns become the rows the import engine reads.

The engine sees the table as one more source of rows: the table's columns are the headers, each
row a ``SourceRow``, plus one column holding the unmapped columns as the product's attributes.
Mapping, constants, joins, value maps and date formats are the engine's own options; the one
transform the engine has no option for (multiply, e.g. metres to kilometres) is applied here,
on the value, before the engine parses it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from business.resources import resource_get
from jobs.errors import FerryError
from sync.external import json_value
from wizard.engine.validation import Row, plans_compile, row_parse
from wizard.mapping import mapping_from_suggestions, mapping_suggest
from wizard.parsing import ParseError, date_parser, value_map_lookup
from wizard.readers import SourceRow

ATTRIBUTES_HEADER = "(other columns)"
STOCK_QUANTITY_NAMES = ("quantity", "qty", "stock", "length", "on_hand")
STOCK_WAREHOUSE_NAMES = ("warehouse", "location", "store")
# Per-column transforms applied before the engine parses the value (name → what its parameter is).
TRANSFORMS = {
    "multiply": "a number, e.g. 0.001",
    "date_format": "a date format, e.g. %d/%m/%Y",
    "value_map": "pairs like In-stock=yes; Sold=no",
}
TRANSFORM_LABELS = {
    "multiply": "Multiply by",
    "date_format": "Parse date",
    "value_map": "Map values",
}
KEEP = ""  # the target "keep in the product's attributes"
STOCK_TARGETS = {"stock:quantity": "quantity", "stock:warehouse": "warehouse"}
WRITEBACK_VALUES = ("status", "last_date", "username", "logs")
PREVIEW_ROWS = 5


class SyncMappingError(FerryError):
    def __init__(self, message: str):
        super().__init__(message, code="sync_mapping")


def mapping_default(*, columns: list[str], key: str, sample_rows: list[list] = ()) -> dict:
    """Names first: the key is the SKU, the rest as the import wizard would suggest them."""
    rest = [c for c in columns if c != key]
    index = {c: i for i, c in enumerate(columns)}
    sample = [[row[index[c]] for c in rest] for row in sample_rows]
    suggested = mapping_from_suggestions(
        mapping_suggest(resource="products", headers=rest, sample_rows=sample)
    )
    mapping = {key: "sku", **{c: f for c, f in suggested.items() if f not in ("sku", "attributes")}}
    options: dict[str, dict] = {}
    if "name" not in mapping.values():
        # A product needs a name: the key itself until someone maps a better one.
        options["name"] = {"join": [key]}
    lower = {c.lower(): c for c in columns}
    stock = {}
    for role, names in (("quantity", STOCK_QUANTITY_NAMES), ("warehouse", STOCK_WAREHOUSE_NAMES)):
        found = next((lower[n] for n in names if n in lower and lower[n] not in mapping), None)
        if found:
            stock[role] = found
    if set(stock) != {"quantity", "warehouse"}:
        stock = {}
    return {"mapping": mapping, "options": options, "stock": stock}


def mapping_validate(
    *, mapping: dict, options: dict, transforms: dict, stock: dict, key: str
) -> None:
    fields = {f.name for f in resource_get("products").importable_fields()}
    mapped_by: dict[str, str] = {}
    for column, field in mapping.items():
        if field not in fields:
            raise SyncMappingError(
                f"Column '{column}' is mapped to '{field}', which is not a product field. "
                f"Fields: {', '.join(sorted(fields))}."
            )
        if field in mapped_by:
            raise SyncMappingError(
                f"Columns '{mapped_by[field]}' and '{column}' are both mapped to '{field}'; "
                "map only one (join them with a join instead)."
            )
        mapped_by[field] = column
    for field, opts in options.items():
        if field not in fields:
            raise SyncMappingError(f"'{field}' is not a product field (in a constant or join).")
        if field in mapped_by and (opts.get("join") or opts.get("constant") not in (None, "")):
            raise SyncMappingError(
                f"'{field}' is mapped from column '{mapped_by[field]}' and also given a "
                "constant or a join; keep one."
            )
    if mapping.get(key) != "sku":
        raise SyncMappingError(f"The key column '{key}' must be mapped to the SKU (sku).")
    for column, spec in transforms.items():
        unknown = set(spec) - set(TRANSFORMS)
        if unknown:
            raise SyncMappingError(
                f"Unknown transform '{sorted(unknown)[0]}' on column '{column}'; known: {', '.join(TRANSFORMS)}."
            )
        if "multiply" in spec:
            _factor(spec["multiply"], column)
        if "date_format" in spec:
            _date_format_check(spec["date_format"], column)
        if "value_map" in spec and not isinstance(spec["value_map"], dict):
            raise SyncMappingError(f"The value map of '{column}' must be pairs like a=b.")
    if stock and set(stock) - {"quantity", "warehouse"}:
        raise SyncMappingError("Stock takes a 'quantity' column and a 'warehouse' column.")
    if stock and not (stock.get("quantity") and stock.get("warehouse")):
        raise SyncMappingError("Stock needs both a quantity column and a warehouse column.")


def columns_used(connection) -> set[str]:
    used = set(connection.mapping) | {connection.key_column}
    for opts in (connection.options or {}).values():
        used |= set(opts.get("join") or ())
    used |= set((connection.stock or {}).values())
    return used


def _factor(value: Any, column: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise SyncMappingError(
            f"The multiply transform of '{column}' needs a number, not '{value}'."
        ) from None


def _date_format_check(fmt: Any, column: str) -> None:
    fmt = str(fmt or "")
    if "%" not in fmt:
        raise SyncMappingError(
            f"The date format of '{column}' needs strftime codes such as %d/%m/%Y, not '{fmt}'."
        )
    try:
        dt.date(2024, 12, 31).strftime(fmt)
    except ValueError:
        raise SyncMappingError(f"'{fmt}' is not a date format (column '{column}').") from None


def transform_apply(value: Any, spec: dict, column: str) -> Any:
    if value is None or value == "" or not spec:
        return value
    if "value_map" in spec and isinstance(value, str):
        value = value_map_lookup(spec["value_map"])(value)
    if "multiply" in spec:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return value  # the engine reports the value that is not a number
        value = number * _factor(spec["multiply"], column)
    if "date_format" in spec:
        # The wizard's date parser (its format first, ISO always): the ISO date is what lands in
        # a date field or the attributes; a value it cannot read goes on for the engine to report.
        try:
            value = date_parser({"date_format": spec["date_format"]})(value).isoformat()
        except ParseError:
            return value
    return value


class TableRows:
    """The engine's view of fetched external rows: headers and SourceRows numbered 1…n."""

    def __init__(self, *, connection, columns: list[str], rows: list[dict[str, Any]]):
        self.connection = connection
        self.columns = columns
        self.rows = rows
        used = columns_used(connection)
        self.extra = [c for c in columns if c not in used]
        self.transforms = connection.transforms or {}

    @property
    def headers(self) -> list[str]:
        return [*self.columns, ATTRIBUTES_HEADER]

    def key_of(self, number: int) -> str:
        return str(self.rows[number - 1][self.connection.key_column])

    def value(self, row: dict, column: str) -> Any:
        return transform_apply(row.get(column), self.transforms.get(column) or {}, column)

    def products(self) -> list[SourceRow]:
        out = []
        for number, row in enumerate(self.rows, start=1):
            values = [self.value(row, c) for c in self.columns]
            # Kept columns are transformed too (a value map, a date read into ISO).
            values.append({c: json_value(self.value(row, c)) for c in self.extra})
            out.append(SourceRow(number, values))
        return out

    def product_params(self, *, dry_run: bool) -> dict:
        c = self.connection
        return {
            "resource": "products",
            "mapping": {**c.mapping, ATTRIBUTES_HEADER: "attributes"},
            "options": c.options or {},
            "on_duplicate": "update",
            "mode": "skip-invalid",
            "dry_run": dry_run,
            "create_missing": {"category": True},
        }

    @property
    def stock_headers(self) -> list[str]:
        # The external columns' own names, so the engine's messages name what a person sees.
        stock = self.connection.stock
        return [self.connection.key_column, stock["warehouse"], stock["quantity"]]

    def stock(self, numbers: list[int]) -> list[SourceRow]:
        stock = self.connection.stock
        out = []
        for number in numbers:
            row = self.rows[number - 1]
            values = [
                self.key_of(number),
                row.get(stock["warehouse"]),
                self.value(row, stock["quantity"]),
            ]
            out.append(SourceRow(number, values))
        return out

    def stock_params(self, *, dry_run: bool) -> dict:
        return {
            "resource": "stock-items",
            "mapping": dict(
                zip(self.stock_headers, ("product", "warehouse", "quantity"), strict=True)
            ),
            "on_duplicate": "update",
            "mode": "skip-invalid",
            "dry_run": dry_run,
        }


# --- the mapping page: what a person sets, and a preview through the engine's parsing ----------


def writeback_statuses() -> list[tuple[str, str]]:
    """The Ferry states a write-back rule may name, in the order rules apply (last wins)."""
    from business.models import SalesOrder, StockItem

    states = [(v, f"Order {label.lower()}") for v, label in SalesOrder.Status.choices]
    states += [
        (StockItem.Status.SOLD, "Stock sold"),
        (StockItem.Status.DELIVERED, "Stock delivered"),
    ]
    return states


def value_map_parse(text: str, column: str) -> dict[str, str]:
    """'In-stock=yes; Sold=no' (or one pair a line) → {"In-stock": "yes", "Sold": "no"}."""
    pairs: dict[str, str] = {}
    for part in str(text or "").replace("\n", ";").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise SyncMappingError(
                f"The value map of '{column}' needs pairs like In-stock=yes; '{part.strip()}' has no '='."
            )
        source, target = part.split("=", 1)
        pairs[source.strip()] = target.strip()
    if not pairs:
        raise SyncMappingError(f"The value map of '{column}' is empty; give pairs like a=b.")
    return pairs


def value_map_text(value_map: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in (value_map or {}).items())


def mapping_preview(*, connection, columns: list[str], rows: list[dict]) -> list[dict[str, Any]]:
    """The first rows as the sync's engine run would read them: the same TableRows values, the
    same settings and field plans, parsed by the engine's own row parser (no database work)."""
    from wizard.engine.settings import ImportSettings

    source = TableRows(connection=connection, columns=columns, rows=rows[:PREVIEW_ROWS])
    settings = ImportSettings.from_params(source.product_params(dry_run=True))
    plans = plans_compile(
        resource=settings.resource,
        headers=source.headers,
        mapping=settings.mapping,
        options=settings.options,
        rules={},
    )
    out = []
    for source_row in source.products():
        row = Row(source_row.number, source_row.values)
        row_parse(plans, row, len(source.headers))
        values = {p.name: row.values.get(p.attname) for p in plans if p.attname in row.values}
        stock = connection.stock or {}
        raw = source.rows[source_row.number - 1]
        out.append(
            {
                "key": source.key_of(source_row.number),
                "values": values,
                "stock": {
                    "quantity": source.value(raw, stock["quantity"]),
                    "warehouse": raw.get(stock["warehouse"]),
                }
                if stock
                else None,
                "errors": [f"{c or 'row'}: {m}" for c, _v, m in (row.errors or [])],
            }
        )
    return out
