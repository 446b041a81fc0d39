"""An import's summary as the job page shows it: human labels, nothing empty.

The engine's summary (``ImportRun.finish``) holds keys for every kind of run; a real run has
no "would create", a preview has no "created", and most runs resolve every reference. The jobs
app knows nothing of imports, so the wizard registers this presenter with it (WizardConfig).
"""

from __future__ import annotations

from typing import Any

from business.resources import UnknownResource, resource_get
from jobs.models import DataJob
from jobs.selectors import SummaryItem, summary_empty, summary_items
from library.models import DataTemplate
from wizard.parsing import EXCEL_DATE_FORMATS

# (key, label, shown even when zero)
REAL_COUNTS = (
    ("total", "Rows in the file", True),
    ("created", "Created", True),
    ("updated", "Updated", False),
    ("unchanged", "Unchanged (already up to date)", False),
    ("failed", "Rows with errors", True),
    ("repeats_merged", "Repeats merged (same values as an earlier row)", False),
    ("repeats_conflicting", "Repeats with other values", False),
    ("warnings", "Warnings", False),
    ("orders_created", "Orders created", False),
    ("orders_updated", "Orders updated", False),
    ("lines_created", "Order lines created", False),
    ("lines_updated", "Order lines updated", False),
)
PREVIEW_COUNTS = (
    ("total", "Rows in the file", True),
    ("would_create", "Would create", True),
    ("would_update", "Would update", False),
    ("unchanged", "Unchanged (already up to date)", False),
    ("invalid", "Rows with errors", True),
    ("repeats_merged", "Repeats merged (same values as an earlier row)", False),
    ("repeats_conflicting", "Repeats with other values", False),
    ("warnings", "Warnings", False),
)
REPEATS = {
    "fail": "Failed: choose which row wins (first or last)",
    "first": "The first row of each key wins",
    "last": "The last row of each key wins",
}
ROUNDING = {"half-up": "half-up", "half-even": "half-even (banker's)"}
# Everything else the engine writes is shown below, labelled, or deliberately left out.
SHOWN = {k for k, _, _ in REAL_COUNTS + PREVIEW_COUNTS} | {
    "mode",
    "on_duplicate",
    "rolled_back",
    "dry_run",
    "resource",
    "references_created",
    "unresolved",
    "date_formats",
    "undo",
    "repeats",
    "merged",
    "problems",
    "rounded",
    "rounding",
    "keys_used",
    # Each row's errors are in the row log and the failed-rows file.
    "errors",
    "skipped",
}


def _resource_label(name: str) -> str:
    try:
        return str(resource_get(name).label)
    except UnknownResource:
        return name


def _field_label(resource: str, name: str) -> str:
    try:
        for field in resource_get(resource).importable_fields():
            if field.name == name:
                return str(field.label)
    except UnknownResource:
        pass
    return name


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def import_summary_items(job: DataJob) -> list[SummaryItem]:
    summary = job.summary
    if not isinstance(summary, dict):
        return summary_items(summary=summary)
    preview = bool(summary.get("dry_run"))
    items: list[SummaryItem] = []
    if summary.get("rolled_back"):
        items.append(SummaryItem("Outcome", "Rolled back: nothing was written"))
    for key, label, always in PREVIEW_COUNTS if preview else REAL_COUNTS:
        value = summary.get(key)
        if value is None or (not value and not always):
            continue
        items.append(SummaryItem(label, _count(value)))
    items.extend(_file_items(summary))
    if summary.get("mode"):
        items.append(SummaryItem("Mode", _choice(DataTemplate.Mode, summary["mode"])))
    if summary.get("on_duplicate"):
        items.append(
            SummaryItem(
                "Existing records", _choice(DataTemplate.OnDuplicate, summary["on_duplicate"])
            )
        )
    resource = str(summary.get("resource") or job.target)
    created = {k: v for k, v in (summary.get("references_created") or {}).items() if v}
    if created:
        items.append(
            SummaryItem(
                "Missing records created",
                "",
                tuple(SummaryItem(_resource_label(k), _count(v)) for k, v in created.items()),
            )
        )
    unresolved = {k: v for k, v in (summary.get("unresolved") or {}).items() if v}
    if unresolved:
        items.append(
            SummaryItem(
                "Values not found",
                "",
                tuple(
                    SummaryItem(
                        _field_label(resource, field),
                        ", ".join(
                            f"{value or '(empty)'} ({count:,} row{'s' if count != 1 else ''})"
                            for value, count in values.items()
                        ),
                    )
                    for field, values in unresolved.items()
                ),
            )
        )
    formats = {k: v for k, v in (summary.get("date_formats") or {}).items() if v}
    if formats:
        items.append(
            SummaryItem(
                "Dates read as",
                "",
                tuple(
                    SummaryItem(_field_label(resource, name), _date_format(fmt))
                    for name, fmt in formats.items()
                ),
            )
        )
    undo = summary.get("undo")
    if isinstance(undo, dict) and undo:
        parts = [f"{int(undo.get('deleted') or 0):,} deleted"]
        if undo.get("restored"):
            parts.append(f"{int(undo['restored']):,} restored")
        if undo.get("skipped_conflicts"):
            parts.append(f"{int(undo['skipped_conflicts']):,} kept (changed since)")
        items.append(SummaryItem("Undone", ", ".join(parts)))
    # Anything a newer engine adds shows up too, read generically.
    rest = {
        k: v
        for k, v in summary.items()
        if k not in SHOWN and not str(k).startswith("_") and not summary_empty(v)
    }
    items.extend(summary_items(summary=rest))
    return items


def _file_items(summary: dict) -> list[SummaryItem]:
    """What the file itself needs decided: repeated keys, grouped problems and their fixes,
    rounding done, and which key recognised the records."""
    items: list[SummaryItem] = []
    if summary.get("repeats_conflicting") and summary.get("repeats") in REPEATS:
        items.append(SummaryItem("Which repeated row wins", REPEATS[summary["repeats"]]))
    problems = [p for p in summary.get("problems") or [] if isinstance(p, dict)]
    if problems:
        items.append(
            SummaryItem(
                "Problems",
                "",
                tuple(SummaryItem(str(p.get("column") or ""), str(p["message"])) for p in problems),
            )
        )
    rounded = {k: v for k, v in (summary.get("rounded") or {}).items() if v}
    if rounded:
        how = ROUNDING.get(str(summary.get("rounding")), str(summary.get("rounding") or ""))
        resource = str(summary.get("resource") or "")
        items.append(
            SummaryItem(
                f"Rounded ({how})" if how else "Rounded",
                "",
                tuple(
                    SummaryItem(_field_label(resource, name), f"{_count(n)} values")
                    for name, n in rounded.items()
                ),
            )
        )
    keys = {k: v for k, v in (summary.get("keys_used") or {}).items() if v}
    if keys:
        resource = str(summary.get("resource") or "")
        items.append(
            SummaryItem(
                "Records recognised by",
                "",
                tuple(
                    SummaryItem(
                        "No key (created as new)"
                        if name == "none"
                        else " + ".join(_field_label(resource, n) for n in name.split(" + ")),
                        _count(n),
                    )
                    for name, n in keys.items()
                ),
            )
        )
    return items


def _choice(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# strftime directives as a person writes a date.
_DIRECTIVES = {
    "%d": "DD",
    "%m": "MM",
    "%Y": "YYYY",
    "%y": "YY",
    "%H": "hh",
    "%M": "mm",
    "%S": "ss",
    "%b": "Mon",
    "%B": "Month",
}


def _date_format(fmt: Any) -> str:
    text = str(fmt)
    if text in EXCEL_DATE_FORMATS:
        return f"Excel date numbers ({text.removeprefix('excel-')} system)"
    for directive, words in _DIRECTIVES.items():
        text = text.replace(directive, words)
    return text
