"""The same sync against the local PostgreSQL and MariaDB (a throwaway database per test)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from business.models import Product
from sync.services import connection_create, connection_test, sync_run_now
from tests.sync.conftest import _sell_for_server

pytestmark = pytest.mark.django_db


def test_it_imports_and_writes_back_on_a_server_database(
    org, owner, warehouses, server_db, sync_root
):
    url, engine = server_db
    conn = connection_create(
        organization=org,
        name="Server reels",
        url=url,
        table="inventory",
        key_column="reel_number",
        mapping={"reel_number": "sku", "grade": "category"},
        options={"name": {"join": ["grade", "gsm"]}},
        stock={"quantity": "length", "warehouse": "location"},
    )
    assert connection_test(connection=conn).available == 8
    job = sync_run_now(connection=conn, user=owner)
    assert job.summary["imported"] == 8, job.error_message
    product = Product.objects.filter(organization=org).order_by("sku").first()
    assert product.attributes["profile_name"]
    _sell_for_server(org, product)
    job = sync_run_now(connection=conn, user=owner, direction="export")
    assert job.summary["written_back"] == 1, job.error_message
    with engine.connect() as c:
        status, logs = c.execute(
            sa.text("SELECT status, logs FROM inventory WHERE reel_number = :k"), {"k": product.sku}
        ).one()
    assert status == "Sold" and logs.endswith("Sold by Ferry (order SO-1 is invoiced)")


def test_it_reads_server_databases_read_only(org, owner, server_db, sync_root):
    from sync.external import engine_open
    from sync.models import SyncConnection

    url, _ = server_db
    conn = SyncConnection(
        organization=org, kind="url", url=url, table="inventory", key_column="reel_number"
    )
    engine = engine_open(connection=conn)
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as c:
        c.exec_driver_sql("DELETE FROM inventory")
    engine.dispose()
