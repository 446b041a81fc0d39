"""The draft's life: an upload stored as a pending import, configured, its files deleted, and the
checks (state, required fields, concurrency, permission) that the run and the edits share.

A draft import is a pending ``DataJob`` whose params (``ImportParams``, the one typed accessor)
hold everything the run needs; the wizard edits them with ``import_configure``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings as django_settings
from django.core.files import File

from accounts.models import Membership
from business.resources import FieldType, UnknownResource, resource_get
from jobs.errors import FerryError, LimitExceeded
from jobs.models import DataJob
from jobs.selectors import jobs_holding_slot
from jobs.services import job_create
from library.models import DataTemplate
from library.schema import template_usable_check
from wizard.engine.params import ImportParams
from wizard.mapping import (
    mapping_from_suggestions,
    mapping_missing_required,
    mapping_suggest,
    mapping_targets,
)
from wizard.parsing import EXCEL_DATE_FORMATS
from wizard.readers import FileInfo, ReaderError, ReadOptions, file_inspect

Status = DataJob.Status


class ImportNotAllowed(FerryError):
    pass


class ImportStateError(FerryError):
    pass


# --- helpers ---------------------------------------------------------------------------------


def _resource(name: str):
    try:
        resource = resource_get(name)
    except UnknownResource as exc:
        raise FerryError(str(exc), code="unknown_resource") from None
    if not resource.importable:
        raise ImportNotAllowed(f"{resource.label} cannot be imported.")
    return resource


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


@contextlib.contextmanager
def job_input_path(job: DataJob) -> Iterator[str]:
    """A local path to the job's input file (a temporary copy for remote storage)."""
    f = job.input_file
    try:
        path = f.path
    except NotImplementedError:
        path = None
    if path and os.path.exists(path):
        yield path
        return
    suffix = Path(job.input_filename or f.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with f.storage.open(f.name, "rb") as src:
            shutil.copyfileobj(src, tmp)
        tmp.flush()
        yield tmp.name


def _inspect(job: DataJob, read: dict | None) -> FileInfo:
    with job_input_path(job) as path:
        info = file_inspect(path, options=ReadOptions.from_dict(read))
    limit = django_settings.FERRY["MAX_IMPORT_ROWS"]
    if info.row_estimate is not None and info.row_estimate > limit and info.row_count_exact:
        raise LimitExceeded(
            f"The file has {info.row_estimate:,} data rows; one import may have at most {limit:,}. "
            "Split it into smaller files."
        )
    return info


def _suggest(
    resource, info: FileInfo, template=None, *, organization=None, user=None
) -> dict[str, str]:
    # An orders file may carry its lines: wizard.mapping maps the rest to line fields too.
    return mapping_from_suggestions(
        mapping_suggest(
            resource=resource,
            headers=info.headers,
            sample_rows=info.sample_rows,
            template=template,
            organization=organization,
            user=user,
        )
    )


def _require_draft(job: DataJob) -> None:
    if job.job_type != DataJob.Type.IMPORT:
        raise ImportStateError("This job is not an import.")
    if job.status != Status.PENDING:
        raise ImportStateError(
            "This import has already been started; start a new import to change its settings."
        )


def _missing_required(params: ImportParams) -> None:
    # The same rule as the mapping page's status box (wizard.mapping), so they never disagree.
    missing = mapping_missing_required(
        resource=resource_get(params.resource), mapping=params.mapping, options=params.options
    )
    if missing:
        names = ", ".join(f"'{f.label}'" for f in missing)
        raise FerryError(
            f"Map a column (or set a constant) for the required field{'s' if len(missing) > 1 else ''} "
            f"{names} before importing.",
            code="unmapped_required",
        )


def _concurrency_check(job: DataJob) -> None:
    limit = django_settings.FERRY["MAX_CONCURRENT_IMPORTS"]
    imports = DataJob.objects.filter(
        organization=job.organization, job_type=DataJob.Type.IMPORT
    ).exclude(pk=job.pk)
    active = jobs_holding_slot(imports).count()
    if active >= limit:
        raise LimitExceeded(
            f"Your organization already has {active} imports queued or running, the most at once is "
            f"{limit}. Start this one when one of them has finished."
        )


def import_permission_check(
    *, user, organization, resources: Iterable[str], permission: str = "", again: bool = False
) -> None:
    """The one rule for who may import: a member of the organization whose role grants each
    resource's import permission (or the template's own code, ``permission``). The command line
    runs without a user and is not checked. ``again`` words the refusal for a check made when the
    run starts: the person may have lost the permission since queueing."""
    if user is None:
        return
    membership = Membership.objects.filter(user=user, organization=organization).first()
    for name in resources:
        resource = resource_get(name)
        if membership is None or not membership.has_perm(
            permission or resource.import_permission()
        ):
            label = resource.label.lower()
            if again:
                raise ImportNotAllowed(f"{user} may no longer import {label} in this organization.")
            raise ImportNotAllowed(f"{user} may not import {label} here.")


def _permission_check(job: DataJob) -> None:
    """Tasks check again: the person may have lost the permission since queueing."""
    import_permission_check(
        user=job.user,
        organization=job.organization,
        resources=[job.target],
        permission=ImportParams.from_job(job).permission or "",
        again=True,
    )


def import_create(
    *, organization, user, resource: str, file, filename: str, read: dict | None = None
) -> DataJob:
    """Store the upload as a draft import: inspected, with a proposed mapping."""
    resource_cls = _resource(resource)
    limit = django_settings.FERRY["MAX_UPLOAD_BYTES"]
    size = getattr(file, "size", None)
    if size is None:
        with contextlib.suppress(AttributeError, OSError):
            size = os.fstat(file.fileno()).st_size
    if size is not None and size > limit:
        raise LimitExceeded(
            f"The file is {_mb(size)}; the most Ferry accepts is {_mb(limit)}. Split it into smaller files."
        )
    if size == 0:
        raise ReaderError("The file is empty.")
    job = job_create(
        organization=organization,
        user=user,
        job_type=DataJob.Type.IMPORT,
        target=resource_cls.name,
        target_label=str(resource_cls.label),
        params=ImportParams().as_dict(),
        input_file=File(file, name=filename),
        input_filename=Path(filename).name,
    )
    try:
        info = _inspect(job, read)
    except BaseException:
        job_delete_files(job)
        job.delete()
        raise
    job.format = info.format
    ImportParams(
        resource=resource_cls.name,
        mapping=_suggest(resource_cls, info, organization=organization, user=user),
        read=ReadOptions.from_dict(read).as_dict(),
        file_info=info.as_dict(),
        permission=resource_cls.import_permission(),
    ).save(job, also=("format",))
    return job


def job_delete_files(job: DataJob) -> None:
    for f in (job.input_file, job.output_file):
        if f and f.name:
            with contextlib.suppress(OSError):
                f.storage.delete(f.name)


def import_configure(
    *,
    job: DataJob,
    mapping: dict | None = None,
    options: dict | None = None,
    read: dict | None = None,
    on_duplicate: str | None = None,
    mode: str | None = None,
    rules: dict | None = None,
    create_missing: dict | None = None,
    reference_map: dict | None = None,
    template=None,
    limit: int | None = None,
    dry_run: bool | None = None,
    repeats: str | None = None,
    rounding: str | None = None,
    date_formats: dict[str, str] | None = None,
) -> DataJob:
    """Change a draft's settings. Required fields are checked when it starts, not here.

    ``date_formats`` ({field: format}, e.g. {"birth_date": "excel-1900"}) sets the date
    format option of those fields, keeping their other options.
    """
    _require_draft(job)
    old = ImportParams.from_job(job)
    params = ImportParams.from_job(job)
    resource = resource_get(params.resource)
    info = FileInfo.from_dict(params.file_info)
    if read is not None:
        new_read = ReadOptions.from_dict({**params.read, **read}).as_dict()
        if new_read != params.read:
            info = _inspect(job, new_read)
            params.read = new_read
            params.file_info = info.as_dict()
            job.format = info.format
            kept = {h: f for h, f in params.mapping.items() if h in info.headers}
            suggested = _suggest(
                resource,
                info,
                _template_obj(job, params.template_id),
                organization=job.organization,
                user=job.user,
            )
            used = set(kept.values())
            for header, field in suggested.items():
                if header not in kept and field not in used:
                    kept[header] = field
                    used.add(field)
            params.mapping = kept
    if template is not None:
        if isinstance(template, int | str):
            template = _template_obj(job, int(template))
        template_usable_check(template)
        if template.organization_id != job.organization_id or template.resource != resource.name:
            raise FerryError("That template is not an import template for this resource.")
        params.template_id = template.pk
        params.mapping = _suggest(
            resource, info, template, organization=job.organization, user=job.user
        )
        params.options = dict(template.options or {})
        params.rules = dict(template.rules or {})
        params.on_duplicate = template.on_duplicate
        params.mode = template.mode
    if mapping is not None:
        clean = {}
        for header, field in mapping.items():
            if not field:
                continue
            if header not in info.headers:
                raise FerryError(f"The file has no column '{header}'.")
            clean[str(header)] = str(field)
        params.mapping = clean
    for name, value in (
        ("options", options),
        ("rules", rules),
        ("create_missing", create_missing),
        ("reference_map", reference_map),
    ):
        if value is not None:
            setattr(params, name, dict(value))
    if on_duplicate is not None:
        params.on_duplicate = on_duplicate
    if mode is not None:
        params.mode = mode
    if limit is not None:
        params.limit = limit or None
    if dry_run is not None:
        params.dry_run = bool(dry_run)
    if repeats is not None:
        params.repeats = repeats
    if rounding is not None:
        params.rounding = rounding
    if date_formats:
        params.options = _date_formats_set(
            resource, params.options, date_formats, mapping=params.mapping
        )
    # Validate the whole set now so a bad value is refused while configuring.
    params.settings()
    if _preview_affecting(old, params):
        # The stored preview no longer describes what would happen.
        params.preview_job_id = None
    params.save(job, also=("format",))
    return job


def _preview_affecting(old: ImportParams, new: ImportParams) -> bool:
    names = (
        "mapping",
        "options",
        "read",
        "rules",
        "create_missing",
        "reference_map",
        "on_duplicate",
        "repeats",
        "rounding",
    )
    return any(getattr(old, n) != getattr(new, n) for n in names)


def _date_formats_set(
    resource, options: dict, formats: dict[str, str], *, mapping: dict[str, str]
) -> dict[str, dict]:
    """Options with the given date formats set: a field named by its name, its label or the
    file column mapped to it."""
    targets = mapping_targets(resource)
    by_label = {str(f.label).casefold(): f for f in targets.values()}
    by_column = {str(h).casefold(): targets.get(f) for h, f in mapping.items()}
    out = {k: dict(v) for k, v in options.items()}
    for name, fmt in formats.items():
        key = str(name).strip()
        field = targets.get(key) or by_label.get(key.casefold()) or by_column.get(key.casefold())
        if field is None or field.type not in (FieldType.DATE, FieldType.DATETIME):
            dates = ", ".join(
                n for n, f in targets.items() if f.type in (FieldType.DATE, FieldType.DATETIME)
            )
            raise FerryError(
                f"'{name}' is not a date field of {resource.label.lower()}; date formats apply "
                f"to {dates or 'none of its fields'}."
            )
        fmt = str(fmt).strip()
        if fmt not in EXCEL_DATE_FORMATS and "%" not in fmt:
            raise FerryError(
                f"'{fmt}' is not a date format: use excel-1900, excel-1904 or a pattern such as "
                "%d/%m/%Y."
            )
        out.setdefault(field.name, {})["date_format"] = fmt
    return out


def _template_obj(job: DataJob, template_id: int | None):
    if not template_id:
        return None
    try:
        return DataTemplate.objects.get(
            pk=template_id, organization=job.organization, template_type=DataTemplate.Type.IMPORT
        )
    except DataTemplate.DoesNotExist:
        raise FerryError("That template does not exist.") from None
