"""Real external databases for the sync tests: SQLite files in a per-test sync folder, plus
throwaway PostgreSQL and MariaDB databases."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from sync.demo import COLUMNS, SCHEMA, demo_inventory_rows


def reels_write(path: Path, rows: list[tuple] | None = None, *, reels: int = 12) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute(SCHEMA)
    rows = rows if rows is not None else demo_inventory_rows(reels=reels)
    db.executemany(
        f"INSERT INTO inventory ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        rows,
    )
    db.commit()
    db.close()
    return path


def in_stock_rows(n: int) -> list[tuple]:
    rows = demo_inventory_rows(reels=n)
    return [r[:10] + ("In-stock",) + r[11:] for r in rows]


@pytest.fixture
def sync_root(settings, tmp_path) -> Path:
    root = tmp_path / "syncroot"
    root.mkdir()
    settings.FERRY_SYNC_ROOT = root
    return root


@pytest.fixture
def warehouses(org):
    from business.models import Warehouse

    return [
        Warehouse.objects.create(organization=org, code=c, name=c)
        for c in ("WH-MAIN", "WH-NORTH", "WH-SOUTH")
    ]


@pytest.fixture
def reels_file(sync_root) -> Path:
    return reels_write(sync_root / "shop" / "inventory.sqlite3", in_stock_rows(10))


def connection_make(org, **kw):
    from sync.services import connection_create

    args = dict(
        organization=org,
        name="Reels",
        path="shop/inventory.sqlite3",
        table="inventory",
        key_column="reel_number",
        mapping={"reel_number": "sku", "grade": "category", "qr_code": "barcode"},
        options={"name": {"join": ["grade", "gsm", "width"], "join_with": " "}},
        stock={"quantity": "length", "warehouse": "location"},
    )
    args.update(kw)
    return connection_create(**args)


@pytest.fixture
def reels(org, owner, reels_file, warehouses):
    return connection_make(org)


def external_rows(path: Path) -> dict[str, dict]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    out = {r["reel_number"]: dict(r) for r in db.execute("SELECT * FROM inventory")}
    db.close()
    return out


def external_update(path: Path, key: str, **values) -> None:
    db = sqlite3.connect(path)
    sets = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE inventory SET {sets} WHERE reel_number = ?", [*values.values(), key])
    db.commit()
    db.close()


# --- server databases ------------------------------------------------------------------------


def _server_db(kind: str):
    import sqlalchemy as sa

    name = f"ferry_sync_{uuid.uuid4().hex[:10]}"
    if kind == "postgresql":
        admin_url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    else:
        admin_url = "mysql+pymysql://root@127.0.0.1:3306/mysql"
        url = f"mysql://root@127.0.0.1:3306/{name}"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{kind} is not reachable on 127.0.0.1 ({exc.__class__.__name__}): skipped")
    target = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://").replace(
            "mysql://", "mysql+pymysql://"
        )
    )
    with target.begin() as c:
        ddl = SCHEMA.replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "SERIAL PRIMARY KEY" if kind == "postgresql" else "INTEGER PRIMARY KEY AUTO_INCREMENT",
        )
        ddl = ddl.replace("TEXT NOT NULL,", "VARCHAR(64) NOT NULL,", 1)
        c.exec_driver_sql(ddl)
        placeholders = ", ".join(f":{c_}" for c_ in COLUMNS)
        c.execute(
            sa.text(f"INSERT INTO inventory ({', '.join(COLUMNS)}) VALUES ({placeholders})"),
            [dict(zip(COLUMNS, r, strict=True)) for r in in_stock_rows(8)],
        )
    target.dispose()
    return admin, name, url, target


@pytest.fixture(params=["postgresql", "mariadb"])
def server_db(request):
    admin, name, url, target = _server_db(request.param)
    yield url, target
    target.dispose()
    with admin.connect() as c:
        if request.param == "postgresql":
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


def _sell_for_server(org, product):
    from business.models import Customer, SalesOrder, SalesOrderLine

    customer = Customer.objects.create(organization=org, code="C1", name="C")
    order = SalesOrder.objects.create(
        organization=org,
        number="SO-1",
        customer=customer,
        order_date="2026-11-01",
        status="invoiced",
    )
    SalesOrderLine.objects.create(
        organization=org, order=order, line_number=1, product=product, quantity=1, unit_price=10
    )
