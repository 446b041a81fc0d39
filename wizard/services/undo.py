"""Undo: the plan of what undoing a finished import would do, and carrying it out."""

from __future__ import annotations

from django.utils import timezone

from business.audit import audit_record
from business.models import AuditEvent
from jobs.models import DataJob
from wizard.engine import UndoPlan, UndoResult, undo_execute, undo_plan
from wizard.models import ImportChange
from wizard.services.draft import ImportStateError


def _undoable(job: DataJob) -> None:
    if job.job_type != DataJob.Type.IMPORT:
        raise ImportStateError("This job is not an import.")
    if not job.is_finished:
        raise ImportStateError("An import can be undone once it has finished.")
    from wizard.rerun import failed_rows_passes  # rerun builds on the services package

    # A pass of fixed rows writes into this import's change log: undo waits until it is in,
    # so it takes back both passes and nothing is written after it.
    if failed_rows_passes(job=job).filter(status__in=DataJob.ACTIVE).exists():
        raise ImportStateError(
            "Fixed rows are being imported into this import: undo it once they are in."
        )
    if not ImportChange.objects.filter(job=job).exists():
        if (job.summary or {}).get("undo"):
            raise ImportStateError("This import has already been undone.")
        raise ImportStateError("This import wrote nothing, so there is nothing to undo.")


def import_undo_plan(*, job: DataJob, force: bool = False) -> UndoPlan:
    """What undoing the import would do now, by model — the figures the page, API and CLI show.

    Nothing is written. ``import_undo`` carries out exactly this plan (see wizard/engine/undo.py).
    """
    _undoable(job)
    return undo_plan(job=job, force=force)


def import_undo(
    *, job: DataJob, user, force: bool = False, expected: str | None = None
) -> UndoResult:
    """Carry out the undo plan: delete what the import created, restore what it updated.

    ``expected`` is the digest of the plan the person confirmed: if the records changed since,
    nothing is done (UndoPlanChanged) and the new plan must be confirmed.
    """
    _undoable(job)
    result = undo_execute(job=job, force=force, expected=expected)
    summary = dict(job.summary or {})
    undo = dict(summary.get("undo") or {})
    undo.update(
        at=timezone.now().isoformat(),
        by=getattr(user, "pk", None),
        force=force,
        deleted=int(undo.get("deleted", 0)) + result.deleted,
        restored=int(undo.get("restored", 0)) + result.restored,
        skipped_conflicts=result.skipped_conflicts,
        conflicts=result.conflicts,
        by_model=result.as_dict()["by_model"],
    )
    summary["undo"] = undo
    job.summary = summary
    DataJob.objects.filter(pk=job.pk).update(summary=summary)
    audit_record(
        organization=job.organization,
        user=user,
        event_type=AuditEvent.Type.IMPORT_UNDO,
        obj=job,
        details={
            "deleted": result.deleted,
            "restored": result.restored,
            "kept": result.skipped_conflicts,
            "force": force,
            "by_model": {r["model"]: r["delete"] + r["restore"] for r in undo["by_model"]},
        },
    )
    return result
