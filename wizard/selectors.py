"""Read-only queries of the wizard pages. Previews page over stored ImportRow rows; nothing here
re-reads the uploaded file."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from business.resources import resource_get
from jobs.models import DataJob
from wizard.models import ImportRow

REFERENCE_CHOICES_LIMIT = 50


def preview_rows(*, job: DataJob, problems_only: bool = False) -> QuerySet[ImportRow]:
    rows = ImportRow.objects.filter(job=job)
    if problems_only:
        rows = rows.filter(Q(status=ImportRow.Status.INVALID) | ~Q(warnings={}))
    return rows.order_by("row_number")


def preview_counts(*, job: DataJob, preview: DataJob | None) -> dict[str, Any]:
    """Counts by status. The dry run's summary holds them (kept current by inline fixes), so a
    page of a million-row preview does not count rows; without one, the stored rows are counted."""
    summary = (preview.summary if preview is not None else None) or {}
    keys = {"new": "would_create", "update": "would_update", "unchanged": "unchanged"}
    if preview is not None and preview.status == DataJob.Status.COMPLETED and summary:
        result = {k: int(summary.get(v, 0) or 0) for k, v in keys.items()}
        result["invalid"] = int(summary.get("invalid", 0) or 0)
        result["warnings"] = int(summary.get("warnings", 0) or 0)
        result["merged"] = int(summary.get("merged", 0) or 0)
    else:
        counts = dict(
            ImportRow.objects.filter(job=job)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        result = {
            "new": counts.get(ImportRow.Status.NEW, 0),
            "update": counts.get(ImportRow.Status.UPDATE, 0),
            "unchanged": counts.get(ImportRow.Status.UNCHANGED, 0),
            "invalid": counts.get(ImportRow.Status.INVALID, 0),
            "warnings": ImportRow.objects.filter(job=job).exclude(warnings={}).count(),
            "merged": counts.get(ImportRow.Status.MERGED, 0),
        }
    result["total"] = sum(result[k] for k in ("new", "update", "unchanged", "invalid", "merged"))
    return result


def reference_choices(*, job: DataJob, resource, field: str, search: str = "") -> list[str]:
    """Existing natural keys of the referenced resource in the draft's organization."""
    spec = resource.field_map()[field]
    target = resource_get(spec.ref.resource)
    qs = target.queryset(job.organization)
    key = spec.ref.key
    search = (search or "").strip()
    exact = list(qs.filter(**{key: search}).values_list(key, flat=True)[:1]) if search else []
    if search:
        qs = qs.filter(**{f"{key}__icontains": search})
    found = list(qs.order_by(key).values_list(key, flat=True)[:REFERENCE_CHOICES_LIMIT])
    return [str(v) for v in dict.fromkeys(exact + found)]


def import_result_counts(*, job: DataJob) -> dict[str, int]:
    summary = job.summary if isinstance(job.summary, dict) else {}
    return {
        "created": int(summary.get("created", job.succeeded) or 0),
        "updated": int(summary.get("updated", 0) or 0),
        "skipped": int(summary.get("skipped", job.skipped) or 0),
        "failed": int(summary.get("failed", job.failed) or 0),
        "total": int(job.total or job.processed or 0),
    }


def import_can_undo(*, job: DataJob) -> bool:
    """Undo is offered while the import still has recorded changes to take back."""
    from wizard.models import ImportChange

    return job.is_finished and ImportChange.objects.filter(job=job).exists()
