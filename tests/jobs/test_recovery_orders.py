"""A sales-orders import (orders with their lines) whose worker is killed with SIGKILL mid-run is
resumed from its last committed batch by the next worker: every order and every line once, the
orders that failed before the kill still failed, an order number repeated after the kill still
told apart. Real consumer processes, as in test_dead_worker.
"""

from __future__ import annotations

import csv

import pytest
from django.db.models import Count

from business.models import SalesOrder, SalesOrderLine
from jobs.models import DataJob, JobLogEntry
from tests.factories import CustomerFactory, ProductFactory
from tests.jobs.test_dead_worker import (  # noqa: F401 (consumers is a fixture)
    consumers,
    kill,
    logs,
    wait_done,
    wait_stalled,
    wait_until,
)
from tests.wizard.test_engine import draft, media_in_tmp, write_file  # noqa: F401
from wizard.models import ImportChange
from wizard.services import import_start, import_undo

pytestmark = pytest.mark.consumer

BATCH = 200
ORDERS = 5_000
BAD_EVERY = 97  # every 97th order has a line whose product does not exist: the whole order fails
REPEATED = "SO-00002"  # committed before the kill; appears again at the end of the file


def orders_file(tmp_path):
    """Orders of 1 to 4 lines, the order's fields on its first row only; returns the path and
    {number: lines} of the orders that should be imported."""
    rows = [["Order No", "Customer", "Order date", "SKU", "Qty", "Price"]]
    good: dict[str, int] = {}
    for n in range(1, ORDERS + 1):
        number = f"SO-{n:05d}"
        lines = 1 + n % 4
        for i in range(lines):
            sku = f"P{(n + i) % 20}"
            if n % BAD_EVERY == 0 and i == lines - 1:
                sku = "NO-SUCH-SKU"
            head = [number, f"C{n % 5}", "2026-03-01"] if i == 0 else ["", "", ""]
            rows.append([*head, sku, str(1 + i), "9.50"])
        if n % BAD_EVERY:
            good[number] = lines
    # An order number that was committed before the kill, apart from its order's rows.
    rows.append([REPEATED, "C1", "2026-03-02", "P1", "1", "1.00"])
    return write_file(tmp_path, rows), good, len(rows) - 1


def test_it_resumes_an_orders_import_whose_worker_was_killed(
    org,
    owner,
    consumers,  # noqa: F811 (the fixture imported above)
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    for i in range(5):
        CustomerFactory(organization=org, code=f"C{i}")
    for i in range(20):
        ProductFactory(organization=org, sku=f"P{i}")
    path, good, rows = orders_file(tmp_path)
    first = consumers(BATCH)
    job = import_start(job=draft(org, owner, "sales-orders", path))
    assert job.on_stall == DataJob.OnStall.RESUME

    def midway() -> bool:
        job.refresh_from_db()
        return job.status == DataJob.Status.RUNNING and (job.checkpoint or {}).get("rows", 0) >= (
            4 * BATCH
        )

    wait_until(midway, timeout=120, what="the import committing 4 batches", procs=[first])
    kill(first)
    job.refresh_from_db()
    assert job.status == DataJob.Status.RUNNING, "the file was imported before the kill"
    committed = job.checkpoint["rows"]
    assert 0 < committed < rows
    # Exactly the committed orders are in the database, each whole: a batch never splits one.
    done = SalesOrder.objects.filter(organization=org)
    assert done.count() == sum(1 for n in good if int(n[3:]) <= _orders_within(committed))
    for order in done:
        assert order.lines.count() == good[order.number]

    wait_stalled(job)
    # The next worker reads the file in other batches: the checkpoint falls between two orders
    # whatever the batch size, so nothing is skipped or written twice.
    second = consumers(BATCH - 37)
    job = wait_done(job, first, second, timeout=180)
    assert job.status == DataJob.Status.COMPLETED, logs(first, second)
    assert job.attempt == 2

    orders = SalesOrder.objects.filter(organization=org)
    assert orders.count() == len(good)
    assert orders.values("number").distinct().count() == len(good)
    assert SalesOrderLine.objects.filter(order__organization=org).count() == sum(good.values())
    assert dict(orders.values_list("number").annotate(n=Count("lines"))) == good

    s = job.summary
    bad_rows = sum(1 + n % 4 for n in range(BAD_EVERY, ORDERS + 1, BAD_EVERY))
    assert (s["orders_created"], s["lines_created"]) == (len(good), sum(good.values()))
    assert (s["total"], s["failed"]) == (rows, bad_rows + 1)
    assert (job.processed, job.succeeded, job.failed) == (rows, sum(good.values()), bad_rows + 1)
    errors = JobLogEntry.objects.filter(job=job, level="error")
    # Each failed order's rows once, those logged before the kill included (not logged again).
    assert errors.values("row_number").distinct().count() == bad_rows + 1
    assert errors.filter(row_number=rows + 1).count() == 1
    assert "appears again" in errors.get(row_number=rows + 1).message
    # The failed-rows file lists every failed row once.
    with job.output_file.storage.open(s["files"]["failed-rows"]["name"], "rb") as fh:
        failed = list(csv.reader(fh.read().decode("utf-8-sig").splitlines()))
    assert len(failed) == 1 + bad_rows + 1
    assert len({r[0] for r in failed[1:]}) == bad_rows + 1

    # One undo takes back every order and line, those committed before the kill included.
    created = ImportChange.objects.filter(job=job, action=ImportChange.Action.CREATED)
    assert created.count() == created.values("resource", "object_id").distinct().count()
    import_undo(job=job, user=owner)
    assert not SalesOrder.objects.filter(organization=org).exists()
    assert not SalesOrderLine.objects.exists()


def _orders_within(rows: int) -> int:
    """How many whole orders the first ``rows`` data rows of the file hold."""
    seen = 0
    for n in range(1, ORDERS + 1):
        seen += 1 + n % 4
        if seen > rows:
            return n - 1
    return ORDERS
