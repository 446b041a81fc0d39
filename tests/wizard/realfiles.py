"""Files people really have, built row by row: exports from other systems as they come.

Each builder is deterministic (a seeded random generator), writes a real file under the given
folder and returns what a test needs to check the import against (the expected records).
Sizes default to what the real files had (a retail sales export of ~10,000 order lines), so a
test exercises several batches; tests pass smaller sizes only where the size is beside the point.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "John",
    "Katherine",
    "Tim",
    "Hedy",
    "Claude",
    "Sophie",
    "Anita",
    "Donald",
    "Shafi",
    "Leslie",
    "Jean",
    "Niklaus",
    "Mary",
    "Guido",
    "Bjarne",
]
LAST_NAMES = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Backus",
    "Johnson",
    "Berners-Lee",
    "Lamarr",
    "Shannon",
    "Wilson",
    "Borg",
    "Knuth",
    "Goldwasser",
    "Lamport",
    "Sammet",
    "Wirth",
    "Keller",
    "Rossum",
    "Stroustrup",
]
CITIES = (
    ("Henderson", "Kentucky", "42420"),
    ("Los Angeles", "California", "90036"),
    ("Fort Lauderdale", "Florida", "33311"),
    ("Concord", "North Carolina", "28027"),
    ("Seattle", "Washington", "98103"),
    ("Fort Worth", "Texas", "76106"),
    ("Madison", "Wisconsin", "53711"),
    ("West Jordan", "Utah", "84084"),
    ("San Francisco", "California", "94109"),
    ("Philadelphia", "Pennsylvania", "19140"),
)
ACCOUNTS = (
    "Analytical Engines Ltd",
    "Bletchley Park Trust",
    "Navy Computing Lab",
    "Bell Telephone",
    "Xerox Research",
    "Digital Equipment",
    "Thinking Machines",
    "Sun Microsystems",
)


def write_csv(path: Path, headers: list[str], rows: list[list]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, headers: list[str], rows: list[list]) -> Path:
    """Cells as the values are: an int stays a number in a General (unformatted) cell."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@dataclass
class Built:
    path: Path
    headers: list[str]
    rows: list[list]
    # What the import should end with, per test: e.g. {code: {field: value}}.
    expected: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)


# --- 1. a denormalised retail sales export --------------------------------------------------

SALES_HEADERS = [
    "Row ID",
    "Order ID",
    "Order Date",
    "Customer ID",
    "Customer Name",
    "City",
    "State",
    "Postal Code",
    "Product ID",
    "Product Name",
    "Sales",
    "Quantity",
    "Discount",
]


def retail_sales_export(
    folder: Path, *, lines: int = 10_000, customers: int = 800, seed: int = 11
) -> Built:
    """Superstore-style order lines: the customer's columns repeat identically on every line.

    Amounts carry up to three decimals (16.448), as the real export does.
    """
    rng = random.Random(seed)
    people = []
    for i in range(customers):
        city, state, postal = CITIES[i % len(CITIES)]
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        people.append((f"{name[:2].upper()}-{10000 + i * 15}", name, city, state, postal))
    rows = []
    order = 0
    row_id = 0
    while row_id < lines:
        order += 1
        who = people[rng.randrange(customers)] if order > customers else people[order - 1]
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(700))
        for _ in range(rng.randint(1, 4)):
            if row_id >= lines:
                break
            row_id += 1
            product = rng.randrange(1, 400)
            sales = Decimal(rng.randrange(1000, 900000)) / 1000  # 16.448
            rows.append(
                [
                    row_id,
                    f"CA-2024-{100000 + order}",
                    day.strftime("%m/%d/%Y"),
                    who[0],
                    who[1],
                    who[2],
                    who[3],
                    who[4],
                    f"OFF-PA-{10001000 + product}",
                    f"Paper product {product}",
                    str(sales),
                    rng.randint(1, 9),
                    rng.choice(("0", "0.2", "0.45")),
                ]
            )
    used = {r[3]: r for r in rows}
    expected = {code: {"name": r[4], "city": r[5], "postal_code": r[7]} for code, r in used.items()}
    path = write_csv(folder / "retail_sales_export.csv", SALES_HEADERS, rows)
    return Built(path, SALES_HEADERS, rows, expected, {"customers": len(used)})


CUSTOMER_MAPPING = {
    "Customer ID": "code",
    "Customer Name": "name",
    "City": "city",
    "Postal Code": "postal_code",
}


def customers_with_conflicts(
    folder: Path,
    *,
    customers: int = 1_500,
    repeats: int = 2_000,
    conflicts: int = 40,
    seed: int = 5,
) -> Built:
    """A customer list merged from two systems: most repeats are identical, some disagree.

    ``notes["conflicts"]`` maps a code to (first row number, its row number, the first phone,
    the later phone): the later row of each conflict has another phone number.
    """
    rng = random.Random(seed)
    headers = ["Customer Number", "Customer Name", "Phone", "City"]
    base = []
    for i in range(customers):
        city = CITIES[i % len(CITIES)][0]
        base.append(
            [f"C{50000 + i}", f"{rng.choice(LAST_NAMES)} & Co {i}", f"+1 555 {1000 + i}", city]
        )
    rows = [list(r) for r in base]
    first_row = {r[0]: n for n, r in enumerate(rows, start=2)}
    for _ in range(repeats):
        rows.append(list(base[rng.randrange(customers)]))
    conflicting: dict[str, tuple] = {}
    for i in rng.sample(range(customers), conflicts):
        again = list(base[i])
        again[2] = f"+1 555 9{i:04d}"
        rows.append(again)
        conflicting[again[0]] = (first_row[again[0]], len(rows) + 1, base[i][2], again[2])
    path = write_csv(folder / "customers_merged.csv", headers, rows)
    expected = {r[0]: {"name": r[1], "phone": r[2], "city": r[3]} for r in base}
    return Built(path, headers, rows, expected, {"conflicts": conflicting})


# --- 4 and 5. ERP order details: no line numbers, three-decimal prices ----------------------

ORDER_DETAIL_HEADERS = ["OrderID", "ProductID", "UnitPrice", "Quantity", "Discount"]


def erp_order_details(
    folder: Path,
    *,
    orders: int = 830,
    products: int = 77,
    three_decimals: bool = False,
    seed: int = 3,
    name: str = "order_details.csv",
) -> Built:
    """Northwind-style order details: order id, product, price, quantity, discount — no line.

    ``notes["orders"]`` are the order numbers and ``notes["skus"]`` the product codes the file
    refers to (a test creates them first); ``expected[(order, n)]`` is line n of each order, in
    file order.
    """
    rng = random.Random(seed)
    skus = [f"NW-{p:03d}" for p in range(1, products + 1)]
    numbers = [str(10248 + i) for i in range(orders)]
    rows, expected = [], {}
    for number in numbers:
        for n, sku in enumerate(rng.sample(skus, rng.randint(1, 5)), start=1):
            cents = rng.randrange(200, 26350)
            price = (
                Decimal(cents * 10 + rng.randrange(1, 10)) / 1000
                if three_decimals
                else Decimal(cents) / 100
            )
            quantity = rng.randint(1, 120)
            discount = rng.choice(("0", "0.05", "0.1", "0.25"))
            rows.append([number, sku, str(price), quantity, discount])
            expected[(number, n)] = {"sku": sku, "unit_price": price, "quantity": quantity}
    path = write_csv(folder / name, ORDER_DETAIL_HEADERS, rows)
    return Built(path, ORDER_DETAIL_HEADERS, rows, expected, {"orders": numbers, "skus": skus})


ORDER_DETAIL_MAPPING = {
    "OrderID": "order",
    "ProductID": "product",
    "UnitPrice": "unit_price",
    "Quantity": "quantity",
    "Discount": "discount",
}


# --- 6. bare Excel serial dates ---------------------------------------------------------------

EXCEL_1900 = dt.date(1899, 12, 30)
EXCEL_1904 = dt.date(1904, 1, 1)


def excel_serial(day: dt.date, *, system: int = 1900) -> int:
    return (day - (EXCEL_1900 if system == 1900 else EXCEL_1904)).days


def contacts_with_serial_birth_dates(
    folder: Path, *, rows: int = 2_000, xlsx: bool = False, seed: int = 7
) -> Built:
    """A contact list whose birth dates are bare Excel serials (29358 is 1980-05-17).

    In the XLSX the serials are numbers in unformatted (General) cells, as when a date column
    lost its format; in the CSV they are the same numbers as text.
    """
    rng = random.Random(seed)
    headers = ["Email", "First Name", "Last Name", "Date of Birth"]
    data, expected = [], {}
    for i in range(rows):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(18_000))
        email = f"person{i}@example.com"
        serial = excel_serial(born)
        data.append([email, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), serial])
        expected[email] = born
    if xlsx:
        path = write_xlsx(folder / "contacts_serial_dates.xlsx", headers, data)
    else:
        path = write_csv(folder / "contacts_serial_dates.csv", headers, data)
    return Built(path, headers, data, expected)


# --- 7. CRM contacts without e-mails --------------------------------------------------------

CRM_HEADERS = ["Contact ID", "First Name", "Last Name", "Account Name", "Email", "Phone"]


def crm_contacts_without_email(folder: Path, *, rows: int = 3_000, seed: int = 13) -> Built:
    """A CRM partner export: few e-mails; most rows have a legacy id, some only a name and an
    account, a handful nothing at all.

    ``notes`` counts each kind: with_email, legacy_only, name_account_only, no_key.
    """
    rng = random.Random(seed)
    data = []
    kinds = {"with_email": 0, "legacy_only": 0, "name_account_only": 0, "no_key": 0}
    for i in range(rows):
        first, last = f"{rng.choice(FIRST_NAMES)}{i}", rng.choice(LAST_NAMES)
        account = rng.choice(ACCOUNTS)
        phone = f"+44 20 7946 {i:04d}"
        kind = rng.random()
        if kind < 0.10:
            kinds["with_email"] += 1
            data.append(
                [f"003A{i:06d}", first, last, account, f"{first.lower()}@example.org", phone]
            )
        elif kind < 0.85:
            kinds["legacy_only"] += 1
            data.append([f"003A{i:06d}", first, last, account, "", phone])
        elif kind < 0.97:
            kinds["name_account_only"] += 1
            data.append(["", first, last, account, "", phone])
        else:
            kinds["no_key"] += 1
            data.append(["", "", "", "", "", phone])
    path = write_csv(folder / "crm_contacts.csv", CRM_HEADERS, data)
    return Built(path, CRM_HEADERS, data, {}, kinds)


CRM_MAPPING = {
    "Contact ID": "legacy_id",
    "First Name": "first_name",
    "Last Name": "last_name",
    "Account Name": "account",
    "Email": "email",
    "Phone": "phone",
}
