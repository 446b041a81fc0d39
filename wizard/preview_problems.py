"""The preview's problems panel: per column, each kind of problem with its count, the values
that cause it (top few, with counts) and the bulk actions that fix them all at once.

Counted with aggregate queries over the preview's row log (one entry per problem, written by
the dry run), never by loading rows: a 100,000-row preview is summed by the database. The log
of a finished preview does not change, so the sums are kept in the preview's summary; only rows
a person fixed by hand since (few, their numbers listed in the summary by the row-edit service)
are counted again from their stored errors.

A bulk action changes the draft's settings (value map, default, reference decisions, mapping,
mode) through the same configure service as the mapping page, then checks the file again.
"""

from __future__ import annotations

import operator
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import Coalesce, RowNumber

from business.resources import FieldType, resource_get
from jobs.errors import FerryError
from jobs.models import DataJob, JobLogEntry
from wizard import flow
from wizard.engine.matching import references_lookup
from wizard.engine.params import ImportParams
from wizard.models import ImportRow

TOP_VALUES = 5
# Values a "replace all" or "map to an existing record" may change at once: past this, fixing
# the file is the better tool (the value map is stored on the draft).
MAX_BULK_VALUES = 10_000
CACHE_KEY = "problems_panel"
# In the preview's summary: the row numbers fixed by hand since it ran (import_row_edit adds
# them), so the panel never scans every stored row to find the edited ones.
EDITED_KEY = "edited_rows"
SKIPS_KEY = "problem_skips"  # in ImportParams.extra: [[column, kind], ...] a person skipped


class ProblemFixError(FerryError):
    pass


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # short, shown on the cell instead of the whole message
    patterns: tuple[str, ...]  # parts of the engine's message that name this kind
    actions: tuple[str, ...]


ACTIONS = {
    "map_values": "Map these values",
    "replace_all": "Replace all",
    "set_default": "Set a default",
    "create_missing": "Create the missing records",
    "map_existing": "Map to an existing record",
    "ignore_column": "Ignore the column",
    "skip_rows": "Skip these rows",
}

# Order matters: the first kind whose pattern is in the message wins (a choice list may
# contain ": no", so choices are tried before missing references).
KINDS: tuple[Kind, ...] = (
    Kind("required", "value required", ("a value is required",), ("set_default", "skip_rows")),
    Kind(
        "ambiguous_reference",
        "several matches",
        ("matches several",),
        ("map_existing", "skip_rows"),
    ),
    Kind(
        "not_a_choice",
        "not an allowed choice",
        ("is not one of",),
        ("map_values", "replace_all", "ignore_column", "skip_rows"),
    ),
    Kind(
        "missing_reference",
        "no such record",
        (": no ",),
        ("create_missing", "map_existing", "ignore_column", "skip_rows"),
    ),
    Kind(
        "duplicate_in_file",
        "repeated in the file",
        ("appears more than once in this file",),
        ("skip_rows",),
    ),
    Kind("exists", "already exists", ("already exists",), ("skip_rows",)),
    # A row whose key an earlier row has, with other values (identity.py words it); the
    # settings' "repeats: first / last" settles all of them at once.
    Kind("repeat_conflict", "repeats an earlier row", (" is also on row ",), ("skip_rows",)),
    Kind(
        "decimal_places",
        "too many decimals",
        ("decimal places",),
        ("replace_all", "ignore_column", "skip_rows"),
    ),
    Kind(
        "not_a_date",
        "not a date",
        ("is not a date", "is not a valid date", "not a date and time"),
        ("replace_all", "ignore_column", "skip_rows"),
    ),
    Kind(
        "not_a_number",
        "not a number",
        ("is not a number", "is not a whole number", "is too large"),
        ("replace_all", "ignore_column", "skip_rows"),
    ),
    Kind(
        "not_yes_no",
        "not yes or no",
        ("is not yes or no",),
        ("map_values", "replace_all", "ignore_column", "skip_rows"),
    ),
    Kind(
        "invalid_email",
        "not an e-mail address",
        ("e-mail address",),
        ("replace_all", "ignore_column", "skip_rows"),
    ),
    Kind("rule", "breaks a rule", (" must be ",), ("replace_all", "ignore_column", "skip_rows")),
)
OTHER = Kind("other", "problem", (), ("replace_all", "ignore_column", "skip_rows"))
KIND_BY_NAME = {k.name: k for k in (*KINDS, OTHER)}


def kind_of(message: str) -> Kind:
    """The kind of one message, as the database's CASE below decides it (one list of rules)."""
    text = message if message.startswith("Row ") else f"Row : {message}"
    folded = text.casefold()
    for kind in KINDS:
        if any(p.casefold() in folded for p in kind.patterns):
            return kind
    return OTHER


def _kind_case() -> Case:
    whens = [
        When(
            reduce(operator.or_, (Q(message__icontains=p) for p in k.patterns)), then=Value(k.name)
        )
        for k in KINDS
    ]
    return Case(*whens, default=Value(OTHER.name), output_field=CharField())


def _kind_of_entry() -> Coalesce:
    """A log entry's kind: the one the engine stored, else (entries written before it named
    them) read from the message by the rules above."""
    return Coalesce("kind", _kind_case(), output_field=CharField())


def _errors(preview: DataJob) -> QuerySet[JobLogEntry]:
    return JobLogEntry.objects.filter(job=preview, level=JobLogEntry.Level.ERROR).order_by()


# --- reading ---------------------------------------------------------------------------------


def _log_sums(preview: DataJob) -> dict[str, Any]:
    """{"groups": [[column, kind, rows, distinct values]], "top": [[column, kind, value, n]]}."""
    log = _errors(preview).annotate(problem=_kind_of_entry())
    groups = [
        [g["column"], g["problem"], g["n"], g["distinct"]]
        for g in log.values("column", "problem").annotate(
            n=Count("pk"), distinct=Count("value", distinct=True)
        )
    ]
    ranked = (
        log.values("column", "problem", "value")
        .annotate(n=Count("pk"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("column"), F("problem")],
                order_by=[F("n").desc(), F("value").asc()],
            )
        )
        .filter(rank__lte=TOP_VALUES)
    )
    top = [[t["column"], t["problem"], t["value"], t["n"]] for t in ranked]
    return {"groups": groups, "top": top}


def problems_sum(*, preview: DataJob) -> dict[str, Any]:
    """What a finished preview keeps in its summary for the panel: the sums of its log (which
    never changes) and the list of rows fixed by hand since, empty at first. Called by the
    preview run as it ends, so no page pays for the sums."""
    return {CACHE_KEY: _log_sums(preview), EDITED_KEY: []}


def problems_edited_note(*, summary: dict[str, Any], row_number: int) -> dict[str, Any]:
    """The preview's summary with one more row fixed by hand, which the panel recounts (an
    older summary without the list is left so: the panel then finds them by reading all rows)."""
    edited = summary.get(EDITED_KEY)
    if isinstance(edited, list) and row_number not in edited:
        return {**summary, EDITED_KEY: [*edited, row_number]}
    return summary


def _cached_sums(preview: DataJob) -> dict[str, Any]:
    summary = preview.summary if isinstance(preview.summary, dict) else {}
    cached = summary.get(CACHE_KEY)
    if cached is not None:
        return cached
    # A preview finished before the run kept its sums: sum it once, on first view.
    sums = _log_sums(preview)
    if preview.status == DataJob.Status.COMPLETED:
        with transaction.atomic():
            locked = DataJob.objects.select_for_update().only("summary").get(pk=preview.pk)
            merged = {**(locked.summary or {}), CACHE_KEY: sums}
            DataJob.objects.filter(pk=preview.pk).update(summary=merged)
        preview.summary = merged
    return sums


def preview_problems(*, job: DataJob, preview: DataJob | None, resource) -> list[dict]:
    """Per column (in the file's order), its kinds of problem, most rows first."""
    if preview is None or preview.status != DataJob.Status.COMPLETED:
        return []
    sums = _cached_sums(preview)
    counts: Counter = Counter()
    distinct: dict[tuple[str, str], int] = {}
    tops: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for column, kind, n, d in sums["groups"]:
        counts[(column, kind)] += n
        distinct[(column, kind)] = d
    for column, kind, value, n in sums["top"]:
        tops[(column, kind)][value] = n
    _edited_adjust(job=job, preview=preview, counts=counts, tops=tops)
    params = ImportParams.from_job(job)
    skipped = {tuple(s) for s in params.extra.get(SKIPS_KEY) or []}
    headers = list(params.file_info.get("headers") or [])
    fields = resource.field_map()
    by_label = {str(f.label): name for name, f in fields.items()}
    columns: dict[str, dict] = {}
    for (column, kind_name), n in counts.items():
        if n <= 0:
            continue
        kind = KIND_BY_NAME.get(kind_name, OTHER)
        field_name = params.mapping.get(column) or by_label.get(column)
        spec = fields.get(field_name) if field_name else None
        entry = columns.setdefault(
            column,
            {
                "column": column,
                "field": field_name or "",
                "field_label": spec.label if spec else "",
                "mapped": column in params.mapping,
                "kinds": [],
                "rows": 0,
            },
        )
        entry["rows"] += n
        top = tops.get((column, kind_name)) or Counter()
        values = [{"value": v, "count": c} for v, c in top.most_common(TOP_VALUES)]
        entry["kinds"].append(
            {
                "kind": kind.name,
                "label": kind.label,
                "count": n,
                "distinct": distinct.get((column, kind_name), len(values)),
                "values": values,
                "actions": _actions_for(kind, spec, column in params.mapping),
                "choices": _choices(spec),
                "skipped": (column, kind.name) in skipped,
            }
        )
    order = {h: i for i, h in enumerate(headers)}
    out = sorted(columns.values(), key=lambda c: (order.get(c["column"], len(order)), c["column"]))
    for entry in out:
        entry["kinds"].sort(key=lambda k: -k["count"])
    return out


def _edited_adjust(*, job, preview, counts: Counter, tops) -> None:
    """Rows fixed by hand since the preview ran: their logged problems are replaced by the
    ones their last check found (a few rows, read one by one)."""
    listed = (preview.summary or {}).get(EDITED_KEY)
    rows = ImportRow.objects.filter(job=job)
    if listed is not None:
        if not listed:
            return
        rows = rows.filter(row_number__in=listed)
    else:
        # An older preview without the list: find the edited rows by reading them all.
        rows = rows.exclude(edits={})
    edited = list(rows.values_list("row_number", "errors", "values", "edits"))
    if not edited:
        return
    numbers = [e[0] for e in edited]
    for column, kind, value in (
        _errors(preview)
        .filter(row_number__in=numbers)
        .annotate(problem=_kind_of_entry())
        .values_list("column", "problem", "value")
    ):
        key = (column, kind)
        counts[key] -= 1
        if value in tops[key]:
            tops[key][value] -= 1
    for _, errors, values, edits in edited:
        effective = {**(values or {}), **(edits or {})}
        for column, messages in (errors or {}).items():
            for message in messages or []:
                key = (column, kind_of(message).name)
                counts[key] += 1
                if key[1] != "required":
                    tops[key][effective.get(column, "")] += 1
    for top in tops.values():
        for value in [v for v, n in top.items() if n <= 0]:
            del top[value]


def _actions_for(kind: Kind, spec, mapped: bool) -> list[dict]:
    out = []
    for action in kind.actions:
        if action == "ignore_column" and (not mapped or (spec is not None and spec.required)):
            continue
        if action == "set_default" and spec is None:
            continue
        if action == "map_values" and not _choices(spec):
            continue
        if action in ("create_missing", "map_existing") and (spec is None or spec.ref is None):
            continue
        if action == "create_missing" and not spec.ref.creatable:
            continue
        if action == "replace_all" and spec is not None and spec.ref is not None:
            continue
        out.append({"action": action, "label": ACTIONS[action]})
    return out


def _choices(spec) -> list[tuple[str, str]]:
    if spec is None:
        return []
    if spec.type == FieldType.BOOLEAN:
        return [("yes", "Yes"), ("no", "No")]
    if spec.type != FieldType.CHOICE:
        return []
    return [(str(v), str(label)) for v, label in (spec.choices or ())]


def problem_values(*, preview: DataJob, column: str, kind: str) -> list[str]:
    values = list(
        _errors(preview)
        .annotate(problem=_kind_of_entry())
        .filter(column=column, problem=kind)
        .values_list("value", flat=True)
        .distinct()[: MAX_BULK_VALUES + 1]
    )
    if len(values) > MAX_BULK_VALUES:
        raise ProblemFixError(
            f"More than {MAX_BULK_VALUES:,} different values have this problem: fix the column "
            "in the file, or ignore it."
        )
    return [v for v in values if v != ""]


def ambiguous_references(
    *, job: DataJob, preview: DataJob | None, resource, groups: list[dict] | None = None
) -> list[dict]:
    """Values that match several existing records, per reference field, with the candidates
    (``groups``: the panel's, when the caller has them already)."""
    if preview is None or preview.status != DataJob.Status.COMPLETED:
        return []
    if groups is None:
        groups = preview_problems(job=job, preview=preview, resource=resource)
    params = ImportParams.from_job(job)
    fields = resource.field_map()
    out = []
    for group in groups:
        spec = fields.get(group["field"])
        if spec is None or spec.ref is None:
            continue
        for kind in group["kinds"]:
            if kind["kind"] != "ambiguous_reference":
                continue
            values = [v["value"] for v in kind["values"]]
            remap = params.reference_map.get(spec.name) or {}
            _, candidates = references_lookup(
                organization=job.organization,
                resource=resource_get(spec.ref.resource),
                key=spec.ref.key,
                values={remap.get(v, v) for v in values},
            )
            out.append(
                {
                    "field": spec.name,
                    "label": spec.label,
                    "column": group["column"],
                    "rows": kind["count"],
                    "values": [
                        {
                            "value": v["value"],
                            "count": v["count"],
                            "candidates": candidates.get(remap.get(v["value"], v["value"]), []),
                        }
                        for v in kind["values"]
                    ],
                }
            )
    return out


def import_outcome(*, counts: dict | None, mode: str) -> dict[str, Any]:
    """What starting the import will do, from the preview's counts."""
    if not counts:
        return {"startable": True, "text": ""}
    valid = counts["new"] + counts["update"]
    if valid == 0 and counts["unchanged"] == 0:
        return {
            "startable": False,
            "text": "No row is valid, so there is nothing to import: fix the problems first.",
        }
    parts = [f"create {counts['new']:,}", f"update {counts['update']:,}"]
    if counts["unchanged"]:
        parts.append(f"leave {counts['unchanged']:,} unchanged")
    text = "Will " + ", ".join(parts)
    invalid = counts["invalid"]
    if invalid:
        text += f", skip {invalid:,} invalid row{'s' if invalid != 1 else ''}"
        if mode == "atomic":
            text += " — but all or nothing is chosen, so nothing would be written"
    return {"startable": True, "text": text + "."}


# --- fixing ----------------------------------------------------------------------------------


def problem_fix(
    *,
    job: DataJob,
    column: str,
    kind: str,
    action: str,
    value: str = "",
    target: str = "",
    value_map: dict[str, str] | None = None,
) -> str:
    """Carry out one bulk action; returns what was done, in words. The preview runs again
    (except for a skip, which changes no row's outcome)."""
    resource = resource_get(job.target)
    preview = flow.preview_job(job)
    if preview is None or preview.status != DataJob.Status.COMPLETED:
        raise ProblemFixError("Preview the file first.")
    group = next(
        (
            (c, k)
            for c in preview_problems(job=job, preview=preview, resource=resource)
            for k in c["kinds"]
            if c["column"] == column and k["kind"] == kind
        ),
        None,
    )
    if group is None:
        raise ProblemFixError(f"Column '{column}' has no such problem any more.")
    entry, found = group
    if action not in {a["action"] for a in found["actions"]}:
        raise ProblemFixError(f"'{ACTIONS.get(action, action)}' does not fit this problem.")
    params = ImportParams.from_job(job)
    field = entry["field"]
    spec = resource.field_map().get(field)
    note = ""
    if action == "skip_rows":
        skips = [list(s) for s in params.extra.get(SKIPS_KEY) or []]
        if [column, kind] not in skips:
            skips.append([column, kind])
        ImportParams.update(job, extra={**params.extra, SKIPS_KEY: skips})
        if params.mode != "skip-invalid":
            flow.wizard_configure(job=job, mode="skip-invalid")
        return (
            f"The {found['count']:,} row{'s' if found['count'] != 1 else ''} with this problem "
            f"will be skipped (listed in the failed-rows file); the import skips invalid rows."
        )
    if action == "ignore_column":
        mapping = {h: f for h, f in params.mapping.items() if h != column}
        flow.wizard_configure(job=job, mapping=mapping)
        note = f"Column '{column}' will not be imported."
    elif action == "set_default":
        default = value.strip()
        if not default:
            raise ProblemFixError("Give the default value.")
        options = _with_option(params.options, field, "default", default)
        flow.wizard_configure(job=job, options=options)
        note = f"Blank '{column}' cells will be read as '{default}'."
    elif action in ("map_values", "replace_all"):
        if action == "replace_all":
            replacement = value.strip()
            if not replacement:
                raise ProblemFixError("Give the value that replaces them.")
            chosen = {
                v: replacement for v in problem_values(preview=preview, column=column, kind=kind)
            }
        else:
            allowed = {c for c, _ in found["choices"]}
            chosen = {k: v for k, v in (value_map or {}).items() if v}
            wrong = [v for v in chosen.values() if v not in allowed]
            if wrong:
                raise ProblemFixError(f"'{wrong[0]}' is not one of the choices of {spec.label}.")
            if not chosen:
                raise ProblemFixError("Choose what at least one value stands for.")
        current = dict((params.options.get(field) or {}).get("value_map") or {})
        current.update(chosen)
        options = _with_option(params.options, field, "value_map", current)
        flow.wizard_configure(job=job, options=options)
        note = f"{len(chosen):,} value{'s' if len(chosen) != 1 else ''} of '{column}' will be read as you chose."
    elif action == "create_missing":
        flow.wizard_configure(job=job, create_missing={**params.create_missing, field: True})
        note = f"Missing {spec.label.lower()} records will be created."
    elif action == "map_existing":
        target = target.strip()
        from wizard.selectors import reference_choices

        if not target or target not in reference_choices(
            job=job, resource=resource, field=field, search=target
        ):
            raise ProblemFixError(f"There is no {spec.label.lower()} '{target}'.")
        values = [value] if value else problem_values(preview=preview, column=column, kind=kind)
        reference_map = {k: dict(v) for k, v in params.reference_map.items()}
        reference_map.setdefault(field, {}).update({v: target for v in values})
        flow.wizard_configure(job=job, reference_map=reference_map)
        note = (
            f"'{value}' will use the existing {spec.label.lower()} '{target}'."
            if value
            else f"{len(values):,} values of '{column}' will use '{target}'."
        )
    flow.wizard_preview_start(job=job)
    return note + " The preview is being checked again."


def _with_option(options: dict, field: str, name: str, value: Any) -> dict:
    out = {k: dict(v or {}) for k, v in options.items()}
    out.setdefault(field, {})[name] = value
    return out


# --- what the pages show ---------------------------------------------------------------------


def preview_problems_context(
    *, job: DataJob, preview: DataJob | None, resource, counts: dict | None, column: str, kind: str
) -> dict[str, Any]:
    groups = preview_problems(job=job, preview=preview, resource=resource)
    kinds = sorted({(k["kind"], k["label"]) for g in groups for k in g["kinds"]})
    return {
        "problem_columns": groups,
        "problem_kinds": kinds,
        "problem_filter": {"column": column, "kind": kind},
        "ambiguous": ambiguous_references(
            job=job, preview=preview, resource=resource, groups=groups
        ),
        "outcome": import_outcome(counts=counts, mode=ImportParams.from_job(job).mode),
        "reference_decisions": reference_decisions(job=job, resource=resource),
    }


def reference_decisions(*, job: DataJob, resource) -> list[dict[str, str]]:
    """What the person decided about references (records to create, values mapped to an
    existing record), each with its undo: once decided, they are no longer problems."""
    params = ImportParams.from_job(job)
    fields = resource.field_map()
    out = []
    for field, on in params.create_missing.items():
        if on and field in fields:
            out.append(
                {"field": field, "label": str(fields[field].label), "value": "", "target": ""}
            )
    for field, values in params.reference_map.items():
        if field not in fields:
            continue
        for value, target in values.items():
            out.append(
                {
                    "field": field,
                    "label": str(fields[field].label),
                    "value": value,
                    "target": target,
                }
            )
    return out


def preview_rows_with(*, rows: QuerySet, preview: DataJob | None, column: str, kind: str):
    """The rows filter by problem kind (and column, when one is given)."""
    if not kind or preview is None:
        return rows
    numbers = _errors(preview).annotate(problem=_kind_of_entry()).filter(problem=kind)
    if column:
        numbers = numbers.filter(column=column)
    return rows.filter(row_number__in=numbers.values("row_number"))


def cell_fix_options(*, job: DataJob, resource, column: str) -> dict[str, Any]:
    """How a cell is fixed: a dropdown of choices, a search of existing records, or text."""
    params = ImportParams.from_job(job)
    spec = resource.field_map().get(params.mapping.get(column, ""))
    return {
        "choices": _choices(spec),
        "reference_field": spec.name if spec is not None and spec.ref is not None else "",
    }
