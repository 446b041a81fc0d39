"""A sync job's body: the connection claimed (one sync at a time), the import and the
write-back run, the SyncRun finished, the claim released; and the links an undo removes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.permissions import MANAGE_SYNC
from business.audit import audit_record
from business.models import AuditEvent
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_log
from sync.errors import SyncBusy, SyncError
from sync.external import ExternalTable
from sync.models import SyncConnection, SyncLink, SyncRun
from sync.services.importing import _import
from sync.services.report import SYNC_TARGET, SyncReport
from sync.services.writeback import _write_back


def _claim(*, connection: SyncConnection, job: DataJob) -> None:
    """Hold the connection for this job: one conditional UPDATE, so only one sync runs at once."""
    holder = connection.running_job_id
    if holder and holder != job.pk:
        # A claim left by a job that has ended (its worker died and it was failed) is released.
        ended = DataJob.objects.filter(pk=holder, status__in=DataJob.FINISHED).exists()
        if ended:
            SyncConnection.objects.filter(pk=connection.pk, running_job_id=holder).update(
                running_job=None
            )
    # The job's own claim (a run again after its worker died) is taken over, not refused.
    claimed = (
        SyncConnection.objects.filter(pk=connection.pk)
        .filter(Q(running_job__isnull=True) | Q(running_job=job))
        .update(running_job=job)
    )
    if not claimed:
        connection.refresh_from_db(fields=["running_job"])
        raise SyncBusy(
            f"Another sync of '{connection.name}' is running (job {connection.running_job_id}); "
            "this one did not start."
        )


def _release(*, connection: SyncConnection, job: DataJob) -> None:
    SyncConnection.objects.filter(pk=connection.pk, running_job=job).update(running_job=None)


def sync_claims_release(*, organization=None) -> int:
    """Release the claims of sync jobs that ended without their worker releasing them.

    A worker killed mid-sync leaves its claim and its run "running"; the stalled-jobs task
    fails the job (jobs.services.job_recover). This runs on every auto-sync tick and before a
    sync starts: the connection is free again and the run says how it ended.
    """
    ended = DataJob.objects.filter(status__in=DataJob.FINISHED)
    connections = SyncConnection.objects.filter(running_job__in=ended)
    runs = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, job__in=ended)
    if organization is not None:
        connections = connections.filter(organization=organization)
        runs = runs.filter(organization=organization)
    for run in runs.select_related("job"):
        SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.FAILED,
            finished_at=run.job.finished_at or timezone.now(),
            message=run.job.error_message or "The sync's job ended before the sync did.",
        )
    return connections.update(running_job=None)


def sync_job_work(*, job: DataJob, progress) -> dict[str, Any]:
    """The body of a sync job (worker task or command line)."""
    params = job.params
    connection = SyncConnection.objects.filter(
        pk=params["connection_id"], organization=job.organization
    ).first()
    if connection is None:
        raise SyncError("The sync connection of this job no longer exists.")
    _permission_check(job)
    _claim(connection=connection, job=job)
    # A run again after a dead worker (job_recover, on_stall=rerun) starts from zero: the run
    # the dead attempt left behind ends as failed, this attempt gets its own.
    SyncRun.objects.filter(job=job, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        message="The worker running this sync stopped; the sync was run again.",
    )
    run = SyncRun.objects.create(
        organization=job.organization,
        connection=connection,
        job=job,
        direction=params.get("direction") or "both",
        dry_run=bool(params.get("dry_run")),
        automatic=bool(params.get("automatic")),
    )
    report = SyncReport()
    try:
        _sync(connection=connection, job=job, run=run, progress=progress, report=report)
    except Exception as exc:
        message = (
            exc.message
            if isinstance(exc, FerryError)
            else f"The sync stopped because of an unexpected error (reference: job {job.pk})."
        )
        report.counts["errors"] += 1
        report.message(key="", column="", text=message, level="error")
        _run_finish(run=run, report=report, status=SyncRun.Status.FAILED, message=message)
        job_log(job=job, entries=report.messages)
        raise
    finally:
        _release(connection=connection, job=job)
        if not run.dry_run:
            now = timezone.now()
            connection.last_sync_at = now
            SyncConnection.objects.filter(pk=connection.pk).update(
                last_sync_at=now, next_sync_at=connection.next_due(now)
            )
    job_log(job=job, entries=report.messages)
    _run_finish(run=run, report=report, status=SyncRun.Status.COMPLETED)
    if not run.dry_run:
        audit_record(
            organization=job.organization,
            user=job.user,
            event_type=AuditEvent.Type.IMPORT,
            obj=job,
            details={"sync": connection.name, **_counts(run)},
        )
    return _summary(run=run, connection=connection, report=report)


def _permission_check(job: DataJob) -> None:
    if job.user is None:
        return  # automatic syncs run for the organization, scheduled by an admin
    from accounts.models import Membership

    membership = Membership.objects.filter(user=job.user, organization=job.organization).first()
    if membership is None or not membership.has_perm(MANAGE_SYNC):
        raise SyncError(f"{job.user} may no longer run inventory syncs in this organization.")


def _counts(run: SyncRun) -> dict[str, int]:
    return {
        name: getattr(run, name)
        for name in ("imported", "updated", "skipped", "written_back", "conflicts", "errors")
    }


def _run_finish(*, run: SyncRun, report: SyncReport, status: str, message: str = "") -> None:
    c = report.counts
    run.imported, run.updated = c["imported"], c["updated"]
    run.skipped, run.written_back = c["skipped"], c["written_back"]
    run.conflicts, run.errors = c["conflicts"], c["errors"]
    run.status, run.message = status, message
    run.finished_at = timezone.now()
    run.details = {k: v for k, v in report.details.items() if v}
    run.save()


def _summary(*, run: SyncRun, connection: SyncConnection, report: SyncReport) -> dict[str, Any]:
    summary = {
        "sync_run_id": run.pk,
        "connection": connection.name,
        "direction": run.direction,
        "dry_run": run.dry_run,
        **_counts(run),
        "available": report.counts["available"],
        "unchanged": report.counts["unchanged"],
        "gone": report.counts["gone"],
        "details": run.details,
        "resource": SYNC_TARGET,
    }
    if run.dry_run:
        summary["would"] = {
            "import": len(run.details.get("import", [])),
            "update": len(run.details.get("update", [])),
            "link": len(run.details.get("link", [])),
            "write_back": len(run.details.get("write_back", [])),
        }
    return summary


def _sync(*, connection, job, run, progress, report: SyncReport) -> None:
    params = job.params
    table = ExternalTable(connection=connection)
    try:
        table.columns_require(connection.mapping, role="mapped column")
        table.columns_require((connection.stock or {}).values(), role="stock column")
        if run.direction in ("both", "import"):
            _import(
                connection=connection,
                table=table,
                job=job,
                progress=progress,
                report=report,
                dry_run=run.dry_run,
                keys=params.get("keys"),
                limit=params.get("limit"),
            )
        if run.direction in ("both", "export"):
            progress.check_cancel(force=True)
            _write_back(connection=connection, table=table, report=report, dry_run=run.dry_run)
    finally:
        table.close()


# --- undo --------------------------------------------------------------------------------------


def sync_links_owned(job) -> dict[type, set[int]]:
    """The links a sync job made: those pointing at the products it created.

    Registered with the undo plan (wizard.engine.undo.UNDO_OWNERS), so undoing a sync import
    deletes them with their products instead of listing them as conflicts; the next sync then
    sees those rows as new again.
    """
    params = job.params or {}
    if params.get("source") != "sync" or not params.get("connection_id"):
        return {}
    from wizard.engine.undo import changes_created_q

    links = SyncLink.objects.filter(
        changes_created_q(job=job, resource=SYNC_TARGET, field="product_id"),
        connection_id=params["connection_id"],
        connection__organization_id=job.organization_id,
    ).values_list("pk", flat=True)
    return {SyncLink: set(links)}
