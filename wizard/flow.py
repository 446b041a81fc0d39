"""What the wizard adds on top of the import engine: suggestions with reasons, templates.

The engine (``wizard.services``) owns the draft job and everything about running it. The wizard
keeps its own small state in ``ImportParams.wizard`` (``WizardState``): the suggested field and
the reason for each column (for the badges), the template it proposes, and the settings the last
preview ran with (so a stale preview is flagged). The services update the caller's job object
in place, so nothing here reloads it.
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
from wizard import services
from wizard.engine.params import ImportParams, WizardState
from wizard.mapping import (
    mapping_missing_required,
    mapping_suggest,
    template_match,
)

MANUAL = "manual"


def wizard_configure(*, job: DataJob, **changes: Any) -> DataJob:
    """Change the draft's settings; a preview still running for the old settings is stopped,
    because the engine forgets it and it would go on writing rows for settings now gone."""
    params = ImportParams.from_job(job)
    if any(getattr(params, k) != v for k, v in changes.items() if k != "template"):
        running = preview_job(job)
        if running is not None and running.is_active:
            job_cancel(job=running)
    return services.import_configure(job=job, **changes)


def wizard_state(job: DataJob) -> WizardState:
    return ImportParams.from_job(job).wizard


def _save_state(job: DataJob, **changes: Any) -> None:
    ImportParams.update(job, wizard=changes)


def file_info(job: DataJob) -> dict[str, Any]:
    return ImportParams.from_job(job).file_info


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
    _save_state(job, suggestions=suggestions)


def wizard_start(
    *, organization, user, resource: str, file, filename: str, template: DataTemplate | None = None
) -> DataJob:
    """Create the draft from an upload, suggest a mapping and remember where results live."""
    job = services.import_create(
        organization=organization, user=user, resource=resource, file=file, filename=filename
    )
    ImportParams.update(job, result_url=reverse("wizard:results", args=[job.pk]))
    if template is None:
        proposed = template_match(
            organization=organization,
            user=user,
            resource=resource,
            headers=list(file_info(job).get("headers") or []),
        )
        _save_state(job, proposed_template_id=proposed.pk if proposed else None)
    _apply(job, template)
    if template is not None:
        template_mark_used(template=template)
    return job


def wizard_reinspect(*, job: DataJob, read: dict[str, Any]) -> DataJob:
    """Read the file again with other settings; keep the mapping of columns that remain."""
    old_mapping = ImportParams.from_job(job).mapping
    wizard_configure(job=job, read=read)
    _apply(job, wizard_template(job), keep=old_mapping)
    return job


def wizard_save_mapping(*, job: DataJob, mapping: dict[str, str], options: dict[str, dict]):
    return wizard_configure(job=job, mapping=mapping, options=options)


def wizard_apply_template(*, job: DataJob, template: DataTemplate) -> DataJob:
    _apply(job, template)
    _save_state(job, proposed_template_id=None)
    template_mark_used(template=template)
    return job


def wizard_dismiss_template(*, job: DataJob) -> None:
    _save_state(job, proposed_template_id=None)


def wizard_template(job: DataJob) -> DataTemplate | None:
    template_id = ImportParams.from_job(job).template_id
    if not template_id:
        return None
    return DataTemplate.objects.filter(organization=job.organization_id, pk=template_id).first()


def wizard_proposed_template(job: DataJob) -> DataTemplate | None:
    params = ImportParams.from_job(job)
    template_id = params.wizard.proposed_template_id
    if not template_id or params.template_id:
        return None
    return DataTemplate.objects.filter(
        organization=job.organization_id, pk=template_id, is_active=True
    ).first()


def wizard_save_template(
    *, job: DataJob, membership, name: str, description: str = "", is_shared: bool = False
) -> DataTemplate:
    """Store the draft's mapping and options as a template, and link the draft to it."""
    params = ImportParams.from_job(job)
    template = template_create(
        organization=job.organization,
        membership=membership,
        name=name,
        description=description,
        resource=job.target,
        mapping=params.mapping,
        options=params.options,
        rules=params.rules,
        on_duplicate=params.on_duplicate or DataTemplate.OnDuplicate.SKIP,
        mode=params.mode or DataTemplate.Mode.SKIP_INVALID,
        is_shared=is_shared,
    )
    wizard_configure(job=job, template=template)
    template_mark_used(template=template)
    return template


def column_reasons(job: DataJob) -> dict[str, dict[str, str]]:
    """Why each column has its field: {"code": badge, "why": the reason in words}."""
    params = ImportParams.from_job(job)
    suggestions = params.wizard.suggestions
    mapping = params.mapping
    reasons: dict[str, dict[str, str]] = {}
    for header in params.file_info.get("headers") or []:
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
    params = ImportParams.from_job(job)
    return mapping_missing_required(
        resource=resource_get(job.target), mapping=params.mapping, options=params.options
    )


def _signature(job: DataJob) -> str:
    params = ImportParams.from_job(job)
    relevant = {k: getattr(params, k) for k in ("mapping", "options", "read", "rules")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()


def wizard_preview_start(*, job: DataJob) -> DataJob:
    preview = services.import_preview_start(job=job)
    _save_state(job, preview_signature=_signature(job))
    return preview


def preview_is_stale(job: DataJob) -> bool:
    signature = wizard_state(job).preview_signature
    return bool(signature) and signature != _signature(job)


def preview_job(job: DataJob) -> DataJob | None:
    preview_id = ImportParams.from_job(job).preview_job_id
    if not preview_id:
        return None
    return DataJob.objects.filter(organization=job.organization_id, pk=preview_id).first()
