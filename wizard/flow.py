"""What the wizard adds on top of the import engine: suggestions with reasons, templates.

The engine (``wizard.services``) owns the draft job and everything about running it. The wizard
keeps its own small state under ``job.params["wizard"]``: the suggested field and the reason for
each column (for the badges), the template it proposes, and the settings the last preview ran
with (so a stale preview is flagged).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.urls import reverse

from business.resources import resource_get
from jobs.models import DataJob
from jobs.services import job_cancel
from library.models import DataTemplate
from library.schema import template_usable_check
from library.services import template_create, template_mark_used
from wizard.mapping import (
    mapping_missing_required,
    mapping_suggest,
    template_match,
)

MANUAL = "manual"


class _Engine:
    # The engine module is imported on first use so the wizard's URLs load on their own.
    def __getattr__(self, name):
        from wizard import services as engine

        return getattr(engine, name)


services = _Engine()


def wizard_configure(*, job: DataJob, **changes: Any) -> DataJob:
    """Change the draft's settings; a preview still running for the old settings is stopped,
    because the engine forgets it and it would go on writing rows for settings now gone."""
    params = job.params or {}
    if any(params.get(k) != v for k, v in changes.items() if k != "template"):
        running = preview_job(job)
        if running is not None and running.is_active:
            job_cancel(job=running)
    services.import_configure(job=job, **changes)
    job.refresh_from_db()
    return job


def wizard_state(job: DataJob) -> dict[str, Any]:
    return dict((job.params or {}).get("wizard") or {})


def _save_state(job: DataJob, state: dict[str, Any]) -> None:
    job.refresh_from_db(fields=["params"])
    params = dict(job.params or {})
    params["wizard"] = state
    job.params = params
    DataJob.objects.filter(pk=job.pk).update(params=params)


def file_info(job: DataJob) -> dict[str, Any]:
    return dict((job.params or {}).get("file_info") or {})


def _suggest(job: DataJob, template: DataTemplate | None) -> dict[str, list]:
    """{header: [field, reason, score, reason in words]} (an orders file's lines included)."""
    info = file_info(job)
    suggestions = mapping_suggest(
        resource=resource_get(job.target),
        headers=list(info.get("headers") or []),
        sample_rows=info.get("sample_rows") or [],
        template=template,
        organization=job.organization,
        user=job.user,
    )
    return {s.header: [s.field, s.reason, s.score, s.why] for s in suggestions}


def _apply(job: DataJob, template: DataTemplate | None, *, keep: dict[str, str] | None = None):
    """Suggest a mapping (template first) and store it, keeping the user's own choices."""
    if template is not None:
        template_usable_check(template)
    suggestions = _suggest(job, template)
    mapping = {h: s[0] for h, s in suggestions.items() if s[0]}
    if keep:
        headers = set(suggestions)
        kept = {h: f for h, f in keep.items() if h in headers and f}
        taken = set(kept.values())
        mapping = {h: f for h, f in mapping.items() if h not in kept and f not in taken}
        mapping.update(kept)
    configure: dict[str, Any] = {"mapping": mapping}
    if template is not None:
        configure.update(
            options=dict(template.options or {}),
            rules=dict(template.rules or {}),
            on_duplicate=template.on_duplicate,
            mode=template.mode,
            template=template,
        )
    wizard_configure(job=job, **configure)
    state = wizard_state(job)
    state["suggestions"] = suggestions
    _save_state(job, state)


def wizard_start(
    *, organization, user, resource: str, file, filename: str, template: DataTemplate | None = None
) -> DataJob:
    """Create the draft from an upload, suggest a mapping and remember where results live."""
    job = services.import_create(
        organization=organization, user=user, resource=resource, file=file, filename=filename
    )
    params = dict(job.params or {})
    params["result_url"] = reverse("wizard:results", args=[job.pk])
    job.params = params
    DataJob.objects.filter(pk=job.pk).update(params=params)
    state: dict[str, Any] = {}
    if template is None:
        proposed = template_match(
            organization=organization,
            user=user,
            resource=resource,
            headers=list(file_info(job).get("headers") or []),
        )
        state["proposed_template_id"] = proposed.pk if proposed else None
    _save_state(job, state)
    _apply(job, template)
    if template is not None:
        template_mark_used(template=template)
    job.refresh_from_db()
    return job


def wizard_reinspect(*, job: DataJob, read: dict[str, Any]) -> DataJob:
    """Read the file again with other settings; keep the mapping of columns that remain."""
    old_mapping = dict(job.params.get("mapping") or {})
    wizard_configure(job=job, read=read)
    job.refresh_from_db()
    template = wizard_template(job)
    _apply(job, template, keep=old_mapping)
    job.refresh_from_db()
    return job


def wizard_save_mapping(*, job: DataJob, mapping: dict[str, str], options: dict[str, dict]):
    wizard_configure(job=job, mapping=mapping, options=options)
    job.refresh_from_db()
    return job


def wizard_apply_template(*, job: DataJob, template: DataTemplate) -> DataJob:
    _apply(job, template)
    state = wizard_state(job)
    state["proposed_template_id"] = None
    _save_state(job, state)
    template_mark_used(template=template)
    job.refresh_from_db()
    return job


def wizard_dismiss_template(*, job: DataJob) -> None:
    state = wizard_state(job)
    state["proposed_template_id"] = None
    _save_state(job, state)


def wizard_template(job: DataJob) -> DataTemplate | None:
    template_id = (job.params or {}).get("template_id")
    if not template_id:
        return None
    return DataTemplate.objects.filter(organization=job.organization_id, pk=template_id).first()


def wizard_proposed_template(job: DataJob) -> DataTemplate | None:
    template_id = wizard_state(job).get("proposed_template_id")
    if not template_id or (job.params or {}).get("template_id"):
        return None
    return DataTemplate.objects.filter(
        organization=job.organization_id, pk=template_id, is_active=True
    ).first()


def wizard_save_template(
    *, job: DataJob, membership, name: str, description: str = "", is_shared: bool = False
) -> DataTemplate:
    """Store the draft's mapping and options as a template, and link the draft to it."""
    params = job.params or {}
    template = template_create(
        organization=job.organization,
        membership=membership,
        name=name,
        description=description,
        resource=job.target,
        mapping=dict(params.get("mapping") or {}),
        options=dict(params.get("options") or {}),
        rules=dict(params.get("rules") or {}),
        on_duplicate=params.get("on_duplicate") or DataTemplate.OnDuplicate.SKIP,
        mode=params.get("mode") or DataTemplate.Mode.SKIP_INVALID,
        is_shared=is_shared,
    )
    wizard_configure(job=job, template=template)
    template_mark_used(template=template)
    job.refresh_from_db()
    return template


def column_reasons(job: DataJob) -> dict[str, dict[str, str]]:
    """Why each column has its field: {"code": badge, "why": the reason in words}."""
    suggestions = wizard_state(job).get("suggestions") or {}
    mapping = (job.params or {}).get("mapping") or {}
    reasons: dict[str, dict[str, str]] = {}
    for header in file_info(job).get("headers") or []:
        field = mapping.get(header)
        suggested = list(suggestions.get(header) or [None, "", 0]) + [""]
        if field == suggested[0]:
            reasons[header] = {"code": suggested[1] if field else "", "why": suggested[3]}
        elif field:
            reasons[header] = {"code": MANUAL, "why": "you chose this field"}
        else:
            reasons[header] = {"code": "", "why": "you chose not to import this column"}
    return reasons


def missing_required(job: DataJob):
    params = job.params or {}
    return mapping_missing_required(
        resource=resource_get(job.target),
        mapping=params.get("mapping") or {},
        options=params.get("options") or {},
    )


def _signature(job: DataJob) -> str:
    params = job.params or {}
    relevant = {k: params.get(k) for k in ("mapping", "options", "read", "rules")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()


def wizard_preview_start(*, job: DataJob) -> DataJob:
    preview = services.import_preview_start(job=job)
    job.refresh_from_db()
    state = wizard_state(job)
    state["preview_signature"] = _signature(job)
    _save_state(job, state)
    return preview


def preview_is_stale(job: DataJob) -> bool:
    signature = wizard_state(job).get("preview_signature")
    return bool(signature) and signature != _signature(job)


def preview_job(job: DataJob) -> DataJob | None:
    preview_id = (job.params or {}).get("preview_job_id")
    if not preview_id:
        return None
    return DataJob.objects.filter(organization=job.organization_id, pk=preview_id).first()
