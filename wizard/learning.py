"""Ferry learns from corrections: header → field choices remembered per organization.

When an import starts for real (not a dry run or a preview), every column whose field differs
from what Ferry would have guessed on its own — the header and values, no template, nothing
learned — is remembered for the organization and resource: the next file with that header is
suggested the same field, with who chose it and when. A column set back to Ferry's own guess
forgets the earlier choice. A template still wins over what was learned (see
``wizard.mapping.mapping_suggest``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from business.resources import resource_get
from jobs.models import DataJob
from wizard.engine.params import ImportParams
from wizard.mapping import header_key, mapping_suggest
from wizard.models import LearnedMapping


def learned_choices(*, organization, resource: str) -> dict[str, LearnedMapping]:
    """The organization's learned choices for one resource, by normalised header."""
    rows = LearnedMapping.objects.filter(organization=organization, resource=resource)
    return {row.header_key: row for row in rows.select_related("user")}


def learned_record(*, job: DataJob) -> list[LearnedMapping]:
    """Remember the corrections of an import being started; returns the choices stored."""
    params = ImportParams.from_job(job)
    if params.dry_run:
        return []
    info = params.file_info
    headers = list(info.get("headers") or [])
    if not headers:
        return []
    resource = resource_get(job.target)
    mapping = params.mapping
    # Ferry's own guess, on the same evidence the person saw minus what was learned. Columns
    # a template names are the template's business: it wins over learned choices anyway.
    template = _template(job)
    guessed = {
        s.header: s.field
        for s in mapping_suggest(
            resource=resource,
            headers=headers,
            sample_rows=info.get("sample_rows") or [],
            template=template,
            organization=job.organization,
            learn=False,
        )
    }
    now = timezone.now()
    stored: list[LearnedMapping] = []
    with transaction.atomic():
        existing = learned_choices(organization=job.organization, resource=resource.name)
        for header in headers:
            key = header_key(header)
            if not key or (template is not None and _template_names(template, header)):
                continue
            field = mapping.get(header) or ""
            if field == (guessed.get(header) or ""):
                if key in existing:
                    existing[key].delete()  # Ferry guesses it right now: nothing to remember
                continue
            row = existing.get(key)
            if row is None:
                row = LearnedMapping(
                    organization=job.organization, resource=resource.name, header_key=key, times=0
                )
            row.header, row.field, row.user = header[:500], field, job.user
            row.last_used_at, row.times = now, row.times + 1
            row.save()
            stored.append(row)
    return stored


def _template_names(template, header: str) -> bool:
    return any(header_key(h) == header_key(header) for h in (template.mapping or {}))


def _template(job: DataJob):
    from library.models import DataTemplate

    template_id = ImportParams.from_job(job).template_id
    if not template_id:
        return None
    return DataTemplate.objects.filter(organization=job.organization_id, pk=template_id).first()
