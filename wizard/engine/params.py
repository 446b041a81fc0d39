"""The typed home of an import job's ``params``: the only code that reads or writes them.

A draft import is a pending ``DataJob``; everything the wizard, the CLI and the API set up for
it lives in ``job.params`` as JSON. ``ImportParams`` gives that JSON real fields (what to read,
how to map, how to run, the links between a draft and its preview, the wizard's own state),
and ``ImportParams.update`` changes some of them under a row lock, so a worker writing one
field (a preview's date formats) and a page writing another never undo each other's work —
no caller has to reload the job to see what another wrote.

The run itself receives ``ImportSettings`` (``params.settings()``), validated and typed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from jobs.models import DataJob
from wizard.engine.settings import ImportSettings


@dataclass
class WizardState:
    """What the wizard's pages remember about a draft (never read by the engine)."""

    # {header: [field, reason code, score, reason in words]} for the badges.
    suggestions: dict[str, list] = field(default_factory=dict)
    proposed_template_id: int | None = None
    # The settings the last preview ran with, so a stale preview is flagged.
    preview_signature: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> WizardState:
        data = data or {}
        return cls(
            suggestions=dict(data.get("suggestions") or {}),
            proposed_template_id=data.get("proposed_template_id"),
            preview_signature=data.get("preview_signature") or "",
        )


@dataclass
class ImportParams:
    resource: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)
    file_info: dict[str, Any] = field(default_factory=dict)
    on_duplicate: str = "skip"
    mode: str = "skip-invalid"
    dry_run: bool = False
    limit: int | None = None
    template_id: int | None = None
    rules: dict[str, dict] = field(default_factory=dict)
    create_missing: dict[str, bool] = field(default_factory=dict)
    reference_map: dict[str, dict[str, str]] = field(default_factory=dict)
    # Rows repeating a key with other values: "fail", "first" or "last" (wizard.engine.identity).
    repeats: str = "fail"
    # More decimal places than the field keeps: "reject", "half-up" or "half-even".
    rounding: str = "reject"
    # Who may read the job's files (jobs.selectors.job_files_allowed reads it by this name).
    permission: str = ""
    date_formats: dict[str, str] = field(default_factory=dict)
    # A preview is a dry-run job of its own pointing at its draft; the draft points back.
    preview_for: int | None = None
    preview_job_id: int | None = None
    # Where the job page sends people for the results (read by jobs.views by this name).
    result_url: str = ""
    wizard: WizardState = field(default_factory=WizardState)
    # Keys another producer put in (a sync's import: ``source``): kept as they were.
    extra: dict[str, Any] = field(default_factory=dict)

    # --- reading and writing ---------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ImportParams:
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)} - {"wizard", "extra"}
        known = {n: data.pop(n) for n in list(data) if n in names}
        for name in ("mapping", "options", "read", "file_info", "rules", "create_missing"):
            known[name] = dict(known.get(name) or {})
        known["reference_map"] = {
            k: dict(v or {}) for k, v in (known.get("reference_map") or {}).items()
        }
        known["date_formats"] = dict(known.get("date_formats") or {})
        for name in ("on_duplicate", "mode", "repeats", "rounding"):
            if not known.get(name):
                known.pop(name, None)
        for name in ("permission", "result_url", "resource"):
            known[name] = known.get(name) or ""
        known["dry_run"] = bool(known.get("dry_run"))
        wizard = WizardState.from_dict(data.pop("wizard", None))
        return cls(**known, wizard=wizard, extra=data)

    @classmethod
    def from_job(cls, job: DataJob) -> ImportParams:
        return cls.from_dict(job.params if isinstance(job.params, dict) else None)

    def as_dict(self) -> dict[str, Any]:
        data = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("wizard", "extra")
        }
        wizard = dataclasses.asdict(self.wizard)
        if any(wizard.values()):
            data["wizard"] = wizard
        # Links and URLs are absent rather than empty, as the queries on them expect.
        for name in ("preview_for", "preview_job_id", "result_url"):
            if not data[name]:
                data.pop(name)
        return {**self.extra, **data}

    def save(self, job: DataJob, *, also: tuple[str, ...] = ()) -> None:
        """Write these params whole (a draft being created, or a new job's own)."""
        job.params = self.as_dict()
        job.save(update_fields=["params", *also])

    @classmethod
    def update(cls, job: DataJob, **changes: Any) -> ImportParams:
        """Change some fields under a row lock; ``job`` is brought up to date in place."""
        with transaction.atomic():
            locked = DataJob.objects.select_for_update().only("params").get(pk=job.pk)
            params = cls.from_job(locked)
            for name, value in changes.items():
                if name == "wizard" and isinstance(value, dict):
                    value = dataclasses.replace(params.wizard, **value)
                setattr(params, name, value)
            job.params = params.as_dict()
            DataJob.objects.filter(pk=job.pk).update(params=job.params)
        return params

    # --- what the rest needs ---------------------------------------------------------------

    def settings(self, **overrides: Any) -> ImportSettings:
        """The validated run settings (ImportConfigError for a bad value)."""
        return ImportSettings.from_params({**self.as_dict(), **overrides})

    def preview_copy(self, *, draft: DataJob) -> ImportParams:
        """The params of a preview of ``draft``: a dry run pointing back at it."""
        return dataclasses.replace(
            self, dry_run=True, preview_for=draft.pk, preview_job_id=None, result_url=""
        )

    @staticmethod
    def previews_of(draft: DataJob) -> QuerySet[DataJob]:
        return DataJob.objects.filter(
            organization=draft.organization,
            job_type=DataJob.Type.IMPORT,
            params__preview_for=draft.pk,
        )

    @staticmethod
    def real_runs(jobs: QuerySet[DataJob]) -> QuerySet[DataJob]:
        """Jobs that are not dry runs (a job without the key is not one)."""
        return jobs.filter(Q(params__dry_run__isnull=True) | Q(params__dry_run=False))
