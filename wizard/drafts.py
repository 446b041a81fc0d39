"""Unfinished imports: drafts set up in the wizard and never started.

A draft is not a job (the jobs dashboard does not list it): the wizard lists them here, to be
resumed where they were left or discarded with their uploaded file and previews.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.scoping import get_scoped_or_404
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.selectors import jobs_drafts, jobs_for
from jobs.services import job_cancel, job_delete
from wizard.engine.params import ImportParams


class DraftNotDiscardable(FerryError):
    pass


def drafts_for(*, organization, user, membership) -> QuerySet[DataJob]:
    """The unfinished imports a person sees: their own; an admin sees everyone's."""
    drafts = jobs_drafts(jobs_for(organization=organization)).order_by("-created_at", "-pk")
    if membership is None or not membership.is_admin:
        drafts = drafts.filter(user=user)
    return drafts


def draft_get(*, organization, user, membership, pk: int) -> DataJob:
    return get_scoped_or_404(
        drafts_for(organization=organization, user=user, membership=membership),
        organization,
        pk=pk,
    )


def draft_discard(*, job: DataJob) -> None:
    """Delete a draft, its previews and the uploaded file (unless a started job uses it)."""
    if job.status != DataJob.Status.PENDING:
        raise DraftNotDiscardable(
            "This import was started; it is a job now and cannot be discarded."
        )
    previews = ImportParams.previews_of(job)
    for preview in previews:
        if preview.is_active:
            job_cancel(job=preview)
            preview.refresh_from_db()
        # A preview still running stops at its next batch: it finds its draft gone.
        job_delete(job=preview)
    if job_delete(job=job) is None:
        raise DraftNotDiscardable("This import was started meanwhile; it was kept.")
