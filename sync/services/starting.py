"""Starting syncs: queued as a job (pages, API, the periodic task) or run in this process (the
command line).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TypedDict, Unpack

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import MANAGE_SYNC
from jobs.models import DataJob
from jobs.services import job_create, job_queue, job_run_here
from sync.errors import SyncBusy, SyncError
from sync.models import SyncConnection
from sync.services.report import SYNC_TARGET
from sync.services.runs import sync_claims_release, sync_job_work

logger = logging.getLogger(__name__)


DIRECTIONS = ("both", "import", "export")


class SyncOptions(TypedDict, total=False):
    """What a sync does, the same whether it is queued or run here (defaults: ``_job_for``)."""

    direction: str  # "both", "import" (import only) or "export" (write-back only)
    dry_run: bool
    keys: list[str] | None  # import only these external keys
    limit: int | None


def _job_for(
    *,
    connection: SyncConnection,
    user,
    automatic: bool,
    direction: str = "both",
    dry_run: bool = False,
    keys: list[str] | None = None,
    limit: int | None = None,
) -> DataJob:
    if direction not in DIRECTIONS:
        raise SyncError(f"Unknown direction '{direction}'; use one of {', '.join(DIRECTIONS)}.")
    if limit is not None and int(limit) < 1:
        raise SyncError("The limit must be 1 or more.")
    return job_create(
        organization=connection.organization,
        user=user,
        job_type=DataJob.Type.IMPORT,
        target=SYNC_TARGET,
        format="sync",
        input_filename=f"sync: {connection.name}",
        params={
            "source": "sync",
            "connection_id": connection.pk,
            "connection": connection.name,
            "direction": direction,
            "dry_run": bool(dry_run),
            "keys": [str(k) for k in keys] if keys is not None else None,
            "limit": int(limit) if limit else None,
            "automatic": automatic,
            "resource": SYNC_TARGET,
            "permission": MANAGE_SYNC,
        },
    )


def sync_start(
    *, connection: SyncConnection, user, automatic: bool = False, **options: Unpack[SyncOptions]
) -> DataJob:
    """Queue a sync as a background job. Refused at once if one is already running."""
    from sync.tasks import sync_task

    sync_claims_release(organization=connection.organization)
    connection.refresh_from_db(fields=["running_job"])
    if (
        connection.running_job_id
        and DataJob.objects.filter(pk=connection.running_job_id, status__in=DataJob.ACTIVE).exists()
    ):
        raise SyncBusy(f"A sync of '{connection.name}' is already running.")
    job = _job_for(connection=connection, user=user, automatic=automatic, **options)
    # A sync has no input file and is idempotent on both sides (matched by key; the write-back
    # is one transaction, refused on changed rows): a dead worker's sync is run again from the
    # start by sync_task, never resumed from the engine's checkpoint.
    return job_queue(job=job, task=sync_task, on_stall=DataJob.OnStall.RERUN)


def sync_run_now(*, connection: SyncConnection, user, **options: Unpack[SyncOptions]) -> DataJob:
    """Run a sync in this process (the command line), as the same kind of job."""
    job = _job_for(connection=connection, user=user, automatic=False, **options)
    return job_run_here(job, lambda j, progress: sync_job_work(job=j, progress=progress))


def syncs_due_queue(*, now=None) -> list[DataJob]:
    """Queue a sync for each connection whose interval has passed (the periodic task).

    Moving ``next_sync_at`` on is a conditional UPDATE, so with several schedulers a connection
    is queued once per slot; the claim in the job itself keeps two runs from overlapping.
    """
    now = now or timezone.now()
    queued = []
    sync_claims_release()
    due = SyncConnection.objects.filter(auto_sync=True).filter(
        Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now)
    )
    for connection in due.select_related("organization"):
        following = now + dt.timedelta(minutes=connection.interval_minutes)
        taken = SyncConnection.objects.filter(
            pk=connection.pk, next_sync_at=connection.next_sync_at
        ).update(next_sync_at=following)
        if not taken:
            continue
        try:
            queued.append(sync_start(connection=connection, user=None, automatic=True))
        except SyncBusy:
            logger.info("Sync of connection %s still running; skipped this slot", connection.pk)
        except IntegrityError:
            logger.exception("Could not queue the sync of connection %s", connection.pk)
    return queued
