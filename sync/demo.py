"""A demo shop-floor inventory: paper reels in the seed's schema, generated, registered for the demo
organization so a newcomer can try the sync at once."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path

from sync.external import sync_root

DEMO_FILE = "demo/inventory.sqlite3"
DEMO_CONNECTION = "Reel inventory (demo)"
DEMO_TABLE = "inventory"
SCHEMA = """
CREATE TABLE inventory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reel_number TEXT NOT NULL,
    width INTEGER,
    gsm INTEGER,
    length REAL,
    grade TEXT,
    breaks INTEGER DEFAULT 0,
    comments TEXT,
    qr_code TEXT,
    profile_name TEXT,
    location TEXT,
    status TEXT NOT NULL DEFAULT 'In-stock',
    receive_date TEXT,
    last_date TEXT,
    username TEXT,
    logs TEXT
)
"""
COLUMNS = (
    "reel_number", "width", "gsm", "length", "grade", "breaks", "comments", "qr_code",
    "profile_name", "location", "status", "receive_date", "last_date", "username", "logs",
)  # fmt: skip
GRADES = ("Kraft", "Test liner", "Fluting", "White top", "Recycled")
PROFILES = ("Standard", "Heavy duty", "Food grade", "Export")
LOCATIONS = ("WH-MAIN", "WH-NORTH", "WH-SOUTH")
OPERATORS = ("amir", "beth", "carlos", "dana")


def demo_inventory_rows(*, reels: int = 300, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    start = dt.date(2026, 1, 5)
    rows = []
    for i in range(1, reels + 1):
        received = start + dt.timedelta(days=rng.randint(0, 300))
        status = rng.choices(("In-stock", "Sold", "Delivered"), weights=(80, 12, 8))[0]
        number = f"R{24000 + i:06d}"
        operator = rng.choice(OPERATORS)
        rows.append(
            (
                number,
                rng.choice((1000, 1250, 1400, 1600, 1800, 2100, 2400)),
                rng.choice((80, 100, 120, 140, 150, 175, 200)),
                float(rng.randint(2000, 9000)),
                rng.choice(GRADES),
                rng.choices((0, 1, 2), weights=(85, 12, 3))[0],
                rng.choice(("", "", "", "edge damage", "wet corner", "re-wound")),
                f"QR-{number}",
                rng.choice(PROFILES),
                rng.choice(LOCATIONS),
                status,
                received.isoformat(),
                received.isoformat(),
                operator,
                f"{received.isoformat()} received by {operator}",
            )
        )
    return rows


def demo_inventory_create(path: Path, *, reels: int = 300, seed: int = 7) -> Path:
    """Write a fresh demo inventory database (replacing one already there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.execute(SCHEMA)
        db.executemany(
            f"INSERT INTO inventory ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            demo_inventory_rows(reels=reels, seed=seed),
        )
        db.commit()
    finally:
        db.close()
    return path


def demo_connection_register(*, organization, reels: int = 300):
    """The demo file and its connection, created once (running it again changes nothing)."""
    from sync.models import SyncConnection
    from sync.services import connection_create

    existing = SyncConnection.objects.filter(
        organization=organization, name=DEMO_CONNECTION
    ).first()
    path = sync_root() / DEMO_FILE
    if existing is not None and path.exists():
        return existing, False
    if existing is not None:
        existing.delete()
    demo_inventory_create(path, reels=reels)
    conn = connection_create(
        organization=organization,
        name=DEMO_CONNECTION,
        path=DEMO_FILE,
        table=DEMO_TABLE,
        key_column="reel_number",
        filter_column="status",
        filter_value="In-stock",
        mapping={"reel_number": "sku", "grade": "category", "qr_code": "barcode"},
        options={"name": {"join": ["grade", "gsm", "width"], "join_with": " · "}},
        stock={"quantity": "length", "warehouse": "location"},
        sold_statuses=[["invoiced", "Sold"], ["delivered", "Delivered"]],
    )
    return conn, True
