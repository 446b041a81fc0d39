"""A worker killed with SIGKILL mid-sync (real consumer processes): the next worker runs the
sync again from the start with the sync's own task — it has no input file — and the
connection's claim ends with it. Everything imported once, linked once."""

from __future__ import annotations

import pytest

from business.models import Product, StockItem
from jobs.models import DataJob
from sync.models import SyncConnection, SyncLink, SyncRun
from sync.services import sync_start
from tests.jobs.test_dead_worker import (  # noqa: F401  (the fixture)
    BATCH,
    consumers,
    kill,
    logs,
    wait_done,
    wait_stalled,
    wait_until,
)
from tests.sync.conftest import connection_make, in_stock_rows, reels_write

pytestmark = pytest.mark.consumer
REELS = 4_000


def test_it_runs_a_sync_again_after_its_worker_was_killed(
    org,
    owner,
    consumers,  # noqa: F811  (the fixture imported above)
    sync_root,
    warehouses,
    monkeypatch,
):
    monkeypatch.setenv("FERRY_SYNC_ROOT", str(sync_root))  # the consumers read it
    reels_write(sync_root / "shop" / "inventory.sqlite3", in_stock_rows(REELS))
    conn = connection_make(org)
    first = consumers()
    job = sync_start(connection=conn, user=owner)
    assert job.on_stall == DataJob.OnStall.RERUN

    def midway() -> bool:
        job.refresh_from_db()
        return job.status == DataJob.Status.RUNNING and job.processed >= 3 * BATCH

    wait_until(midway, timeout=120, what="the sync reaching row 600", procs=[first])
    kill(first)
    job.refresh_from_db()
    assert job.status == DataJob.Status.RUNNING, "the sync finished before the kill"
    assert SyncConnection.objects.get(pk=conn.pk).running_job_id == job.pk
    assert 0 < Product.objects.filter(organization=org).count() < REELS

    wait_stalled(job)
    second = consumers()
    job = wait_done(job, first, second, timeout=240)
    assert job.status == DataJob.Status.COMPLETED, job.error_message + logs(first, second)
    assert job.attempt == 2
    assert Product.objects.filter(organization=org).count() == REELS
    assert StockItem.objects.filter(organization=org).count() == REELS
    assert SyncLink.objects.filter(connection=conn, product__isnull=False).count() == REELS
    assert SyncConnection.objects.get(pk=conn.pk).running_job_id is None
    dead, rerun = SyncRun.objects.filter(job=job).order_by("pk")
    assert dead.status == SyncRun.Status.FAILED
    assert rerun.status == SyncRun.Status.COMPLETED
    # What the dead attempt committed counts as updated/unchanged now, never twice.
    assert rerun.imported + rerun.updated <= REELS
