"""How an external table's columns become the rows the import engine reads.

The engine sees the table as one more source of rows: the table's columns are the headers, each
row a ``SourceRow``, plus one column holding the unmapped columns as the product's attributes.
Mapping, constants, joins, value maps and date formats are the engine's own options; the one
transform the engine has no option for (multiply, e.g. metres to kilometres) is applied here,
on the value, before the engine parses it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from business.resources import resource_get
from jobs.errors import FerryError
from sync.external import json_value
from wizard.mapping import mapping_from_suggestions, mapping_suggest
from wizard.readers import SourceRow

ATTRIBUTES_HEADER = "(other columns)"
STOCK_QUANTITY_NAMES = ("quantity", "qty", "stock", "length", "on_hand")
STOCK_WAREHOUSE_NAMES = ("warehouse", "location", "store")
TRANSFORMS = ("multiply",)


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
    for column, field in mapping.items():
        if field not in fields:
            raise SyncMappingError(
                f"Column '{column}' is mapped to '{field}', which is not a product field. "
                f"Fields: {', '.join(sorted(fields))}."
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


def transform_apply(value: Any, spec: dict, column: str) -> Any:
    if value is None or value == "" or not spec:
        return value
    if "multiply" in spec:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return value  # the engine reports the value that is not a number
        value = number * _factor(spec["multiply"], column)
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
            values.append({c: json_value(row.get(c)) for c in self.extra})
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
