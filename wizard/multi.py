"""One flat export, several record types: a denormalised file (order lines carrying their
customer's and product's columns) imported as customers, products, orders and lines in one run.

Each target is an ordinary engine pass over the same rows with its own mapping; identical
repeats of a key are merged (wizard.engine.identity), so a customer repeated on every line
becomes one record. The passes run in dependency order (a resource another one references comes
first) inside ONE import job: the change log, and so the undo, covers all of them, and a dry
run of all passes is the one preview. The pages queue the job (``import_multi_start``) and the
worker runs it, target by target, telling which target it is on; the command line runs it in
its own process (``import_multi_run``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from business.resources import Resource, resource_get
from business.resources.base import registry
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import JobProgress, job_queue
from wizard.engine import run_class_for
from wizard.engine.collector import fewer_collections
from wizard.engine.params import ImportParams
from wizard.mapping import SIMILAR, mapping_from_suggestions, mapping_suggest, mapping_targets
from wizard.services.run import import_audit, import_job_reading

# A target is proposed when its key column and at least this many of its fields are mapped.
MIN_FIELDS = 2
SUMMARY_COUNTS = ("total", "created", "updated", "would_create", "would_update", "merged")
SUMMARY_COUNTS += ("skipped", "unchanged", "failed")


class MultiImportError(FerryError):
    pass


@dataclass
class MultiTarget:
    resource: str
    # {header: field} for this pass only.
    mapping: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "mapping": dict(self.mapping)}


def _line_resources() -> set[str]:
    return {r.line_resource for r in registry.all() if getattr(r, "line_resource", None)}


def _own_key_fields(resource: type[Resource]) -> set[str]:
    """The key fields a column must give (a line's parent comes from its order's columns)."""
    targets = mapping_targets(resource)
    return {f.name for f in resource.key_fields() if f.name in targets}


def _references(resource: type[Resource]) -> set[str]:
    """Resources this one (and the lines a combined file carries) point at."""
    refs = {f.ref.resource for f in mapping_targets(resource).values() if f.ref is not None}
    return refs - {resource.name}


def targets_order(names: Sequence[str]) -> list[str]:
    """``names`` in dependency order, read from the declarations' references: a resource
    referenced by another comes first; otherwise the given order is kept."""
    wanted = list(dict.fromkeys(names))
    refs = {n: _references(resource_get(n)) & set(wanted) for n in wanted}
    ordered: list[str] = []
    while len(ordered) < len(wanted):
        ready = [n for n in wanted if n not in ordered and refs[n] <= set(ordered)]
        if not ready:
            cycle = ", ".join(n for n in wanted if n not in ordered)
            raise MultiImportError(f"These record types refer to each other in a circle: {cycle}.")
        ordered.append(ready[0])
    return ordered


def multi_targets_suggest(
    *, headers: Sequence[str], samples: Sequence[Sequence[Any]], organization=None
) -> list[MultiTarget]:
    """The record types the file carries, each with its suggested mapping, in dependency order.

    A resource is proposed when every key field it needs from the file is mapped and at least
    ``MIN_FIELDS`` of its fields are; line resources come with their orders.
    """
    headers = [str(h) for h in headers]
    lines = _line_resources()
    suggested: dict[str, list] = {}
    for resource in registry.all():
        if not resource.importable or resource.name in lines:
            continue
        suggested[resource.name] = mapping_suggest(
            resource=resource,
            headers=headers,
            sample_rows=samples,
            organization=organization,
            learn=False,
        )
    # A column some record type names outright (its field's name or a synonym) is not also
    # given to another type on a mere resemblance ('List Price' is the product's, not a
    # line's 'Cost Price').
    named = {
        s.header for found in suggested.values() for s in found if s.field and s.reason != SIMILAR
    }
    found: dict[str, MultiTarget] = {}
    for name, suggestions in suggested.items():
        resource = resource_get(name)
        kept = [s for s in suggestions if s.reason != SIMILAR or s.header not in named]
        mapping = {h: f for h, f in mapping_from_suggestions(kept).items() if f}
        own = {f.name for f in resource.importable_fields()}
        mapped = set(mapping.values())
        keys = _own_key_fields(resource)
        if not keys <= mapped or len(mapped & own) < MIN_FIELDS:
            continue
        found[name] = MultiTarget(resource=name, mapping=mapping)
    # Independent types follow the file: the one whose key column comes first leads.
    position = {h: i for i, h in reversed(list(enumerate(headers)))}

    def key_column(target: MultiTarget) -> int:
        keys = _own_key_fields(resource_get(target.resource))
        return min(position[h] for h, f in target.mapping.items() if f in keys)

    names = [t.resource for t in sorted(found.values(), key=key_column)]
    return [found[n] for n in targets_order(names)]


def _targets_clean(targets: Sequence[MultiTarget | dict]) -> list[MultiTarget]:
    clean = [
        t
        if isinstance(t, MultiTarget)
        else MultiTarget(t["resource"], dict(t.get("mapping") or {}))
        for t in targets
    ]
    if not clean:
        raise MultiImportError("Choose at least one record type to import.")
    by_name = {t.resource: t for t in clean}
    for name in by_name:
        resource_get(name)
    return [by_name[n] for n in targets_order(list(by_name))]


def multi_label(targets: Sequence[MultiTarget]) -> str:
    labels = [str(resource_get(t.resource).label) for t in targets]
    return ", ".join([labels[0], *(label.lower() for label in labels[1:])])


def _pass_class(resource, earlier: list):
    """The engine's run for ``resource``, told which keys the earlier passes define: in a dry
    run nothing is written, so an order's customer from the customers pass is pending, not
    missing."""
    base = run_class_for(resource)

    def pending_keys(self, resource_name, values):
        pending = base.pending_keys(self, resource_name, values)
        for run in earlier:
            if run.resource.name == resource_name and len(run.resource.key) == 1:
                seen = run.seen[resource_name]
                pending |= {v for v in values if (v,) in seen}
        return pending

    body: dict[str, Any] = {"pending_keys": pending_keys}
    if hasattr(base, "classify_groups"):

        def classify_groups(self, groups):
            # An orders-with-lines run writes (and so counts) orders only for real; the
            # preview's per-target counts need the orders it would write, too.
            base.classify_groups(self, groups)
            if self.simulate:
                self.counts["orders_would_create"] += sum(g["status"] == "new" for g in groups)
                self.counts["orders_would_update"] += sum(
                    g["status"] == "update" and bool(g.get("changes")) for g in groups
                )

        body["classify_groups"] = classify_groups
    return type(f"Multi{base.__name__}", (base,), body)


def _target_counts(run, summary: dict[str, Any]) -> dict[str, Any]:
    """A pass's counts of its own records; an orders pass also gives its lines'."""
    counts = {k: summary.get(k, 0) for k in SUMMARY_COUNTS}
    if not getattr(run, "with_lines", False):
        return counts
    c, written = run.counts, not (run.settings.dry_run or run.rolled_back)
    lines = {k: counts[k] for k in ("created", "updated", "would_create", "would_update")}
    orders = {
        "created": c["orders_created"] if written else 0,
        "updated": c["orders_updated"] if written else 0,
        "would_create": c["orders_created"] + c["orders_would_create"],
        "would_update": c["orders_updated"] + c["orders_would_update"],
    }
    return {**counts, **orders, "lines": lines}


def multi_import_work(*, job: DataJob, progress) -> dict[str, Any]:
    """The body of a multi-target import job: one engine pass per target, same rows."""
    from wizard.readers import FileInfo, ReadOptions, rows_read
    from wizard.services.draft import job_input_path

    params = ImportParams.from_job(job)
    targets = _targets_clean(params.extra.get("targets") or [])
    # Checked again when the run starts: the person may have lost a permission meanwhile.
    _permissions_check(user=job.user, organization=job.organization, targets=targets)
    info = FileInfo.from_dict(params.file_info)
    order = [t.resource for t in targets]
    runs: list = []
    per_target: dict[str, dict[str, Any]] = {}
    for target in targets:
        if progress is not None:
            progress.check_cancel(force=True)
            _running_save(job=job, order=order, running=target.resource, done=per_target)
        settings = params.settings(resource=target.resource, mapping=target.mapping)
        with job_input_path(job) as path:
            source = rows_read(path, options=ReadOptions.from_dict(params.read), info=info)
            run = _pass_class(settings.resource, runs)(
                job=job,
                settings=settings,
                headers=info.headers,
                source=source,
                # Each pass reports its own rows (as its checkpoints do): the job's counts are
                # the running target's until the end, when they become the sums.
                progress=JobProgress(job) if progress is not None else None,
                row_estimate=info.row_estimate,
                failed_rows=False,
                log_rows=True,
            )
            with fewer_collections():
                summary = run.execute()
        runs.append(run)
        per_target[target.resource] = {
            "label": str(settings.resource.label),
            **_target_counts(run, summary),
            "errors": summary.get("errors", [])[:20],
        }
    total = max((r.processed for r in runs), default=0)
    totals = {k: sum(t[k] for t in per_target.values()) for k in SUMMARY_COUNTS if k != "total"}
    if progress is not None:
        progress.set_total(total)
        progress.update(
            processed=total,
            succeeded=totals["created"] + totals["updated"],
            failed=totals["failed"],
            skipped=totals["skipped"] + totals["merged"],
            force=True,
        )
    summary = {
        "multi": True,
        "targets": per_target,
        "order": order,
        "dry_run": params.dry_run,
        "on_duplicate": params.on_duplicate,
        "total": total,
        **totals,
    }
    if not params.dry_run:
        import_audit(
            job=job,
            details={
                "targets": {n: {k: t[k] for k in SUMMARY_COUNTS} for n, t in per_target.items()},
                "on_duplicate": params.on_duplicate,
            },
        )
    return summary


def _running_save(*, job: DataJob, order: list[str], running: str, done: dict) -> None:
    """While the job runs, its summary says which target it is on and what the done ones did
    (the review page's progress reads it)."""
    summary = {"multi": True, "order": order, "running": running, "targets": dict(done)}
    job.summary, job.processed = summary, 0
    DataJob.objects.filter(pk=job.pk).update(summary=summary, processed=0)


def multi_progress(*, job: DataJob) -> list[dict[str, Any]]:
    """Each target of a queued or running job: done (with its counts), running (with the rows
    read so far) or waiting."""
    summary = job.summary if isinstance(job.summary, dict) else {}
    order = summary.get("order") or [
        t["resource"] for t in ImportParams.from_job(job).extra.get("targets") or []
    ]
    done = summary.get("targets") or {}
    running = summary.get("running")
    out = []
    for name in order:
        state = "done" if name in done else "running" if name == running else "waiting"
        out.append(
            {
                "name": name,
                "label": resource_get(name).label,
                "state": state,
                "counts": done.get(name),
                "processed": job.processed if state == "running" else None,
                "total": job.total if state == "running" else None,
                "percent": job.percent if state == "running" else None,
            }
        )
    return out


class MultiOptions(TypedDict, total=False):
    """How a multi-target import runs, queued or run here (defaults: ``_multi_prepare``)."""

    targets: Sequence[MultiTarget | dict] | None  # None: the suggestion
    on_duplicate: str
    dry_run: bool
    read: dict | None


def import_multi_run(
    *, organization, user, file, filename: str, **options: Unpack[MultiOptions]
) -> DataJob:
    """Import one file as several record types in one job, in this process (the command line).

    ``targets`` are the record types with their mappings (``None``: the suggestion). Each pass
    applies ``on_duplicate``; with ``dry_run`` nothing is written (the preview of all passes).
    """
    from jobs.services import job_run_here

    job = _multi_prepare(
        organization=organization, user=user, file=file, filename=filename, **options
    )
    return job_run_here(job, lambda j, progress: multi_import_work(job=j, progress=progress))


def import_multi_start(
    *,
    organization,
    user,
    file=None,
    filename: str = "",
    source: DataJob | None = None,
    **options: Unpack[MultiOptions],
) -> DataJob:
    """The same job as ``import_multi_run``, queued for the worker (the pages).

    Either ``file`` is stored, or ``source`` (an earlier run of the same file) lends its stored
    file: a preview again or the real import reads it where it is, no copy made in the request.
    """
    from wizard.tasks import multi_import_task

    job = _multi_prepare(
        organization=organization,
        user=user,
        file=file,
        filename=filename,
        source=source,
        **options,
    )
    # A preview wrote nothing and runs again from the start; a real run whose worker died
    # keeps what its passes committed (its undo takes it back) and is failed.
    dry_run = ImportParams.from_job(job).dry_run
    on_stall = DataJob.OnStall.RERUN if dry_run else DataJob.OnStall.FAIL
    return job_queue(job=job, task=multi_import_task, on_stall=on_stall)


def _job_reading(source: DataJob, *, user) -> DataJob:
    """A new job reading ``source``'s stored file as it was read (same read options)."""
    old = ImportParams.from_job(source)
    params = ImportParams(resource=old.resource, read=dict(old.read), file_info=dict(old.file_info))
    return import_job_reading(source=source, user=user, params=params.as_dict())


def _multi_prepare(
    *,
    organization,
    user,
    file,
    filename: str,
    targets: Sequence[MultiTarget | dict] | None = None,
    on_duplicate: str = "skip",
    dry_run: bool = False,
    read: dict | None = None,
    source: DataJob | None = None,
) -> DataJob:
    """The job of a multi-target import, checked and set up, not started."""
    from wizard.services.draft import _concurrency_check, import_create, job_delete_files

    chosen = _targets_clean(targets) if targets is not None else None
    if source is not None:
        job = _job_reading(source, user=user)
    else:
        # The draft is stored as any importable type; its targets are set once the file is read.
        first = (
            chosen[0].resource if chosen else next(r.name for r in registry.all() if r.importable)
        )
        job = import_create(
            organization=organization,
            user=user,
            resource=first,
            file=file,
            filename=filename,
            read=read,
        )
    try:
        chosen = _targets_for(job=job, chosen=chosen, organization=organization)
        _permissions_check(user=user, organization=organization, targets=chosen)
        params = ImportParams.from_job(job)
        params.extra["targets"] = [t.as_dict() for t in chosen]
        params.resource = chosen[0].resource
        params.mapping = dict(chosen[0].mapping)
        params.permission = resource_get(chosen[0].resource).import_permission()
        params.on_duplicate = on_duplicate
        params.dry_run = dry_run
        params.settings()  # a bad on_duplicate is refused before anything runs
        _concurrency_check(job)
    except BaseException:
        # Nothing ran: the stored upload does not outlive the refusal (a lent one stays).
        if source is None:
            job_delete_files(job)
        job.delete()
        raise
    job.target = chosen[0].resource
    job.target_label = multi_label(chosen)[:200]
    params.save(job, also=("target", "target_label"))
    return job


def _targets_for(*, job: DataJob, chosen, organization) -> list[MultiTarget]:
    if chosen is not None:
        return chosen
    info = ImportParams.from_job(job).file_info
    chosen = multi_targets_suggest(
        headers=info.get("headers") or [],
        samples=info.get("sample_rows") or [],
        organization=organization,
    )
    if not chosen:
        raise MultiImportError("No record type was recognised in this file's columns.")
    return chosen


def _permissions_check(*, user, organization, targets: Sequence[MultiTarget]) -> None:
    from wizard.services.draft import import_permission_check

    import_permission_check(
        user=user, organization=organization, resources=[t.resource for t in targets]
    )
