"""The preview's per-run choices the file itself calls for: which row wins when rows repeat a
key with other values, whether money with too many decimals is rounded, and whether a column
of bare numbers is read as Excel dates. Each is offered where the preview found the need (and
stays visible once chosen); choosing one changes the draft's settings and checks it again.
"""

from __future__ import annotations

from typing import Any

from jobs.errors import FerryError
from jobs.models import DataJob
from wizard import flow
from wizard.engine.params import ImportParams
from wizard.parsing import EXCEL_DATE_FORMATS, ROUNDINGS

REPEATS = {
    "fail": "Fail them (fix the file)",
    "first": "Keep the first row's values",
    "last": "Keep the last row's values",
}
ROUNDING = {
    "reject": "Refuse them (fix the file)",
    "half-up": "Round half-up (2.345 → 2.35)",
    "half-even": "Round half-even (2.345 → 2.34)",
}
EXCEL = {
    "excel-1900": "Excel dates (1900 system)",
    "excel-1904": "Excel dates (1904 system, old Macs)",
}
SETTINGS = ("repeats", "rounding", "date_format")


class PreviewSettingError(FerryError):
    pass


def preview_settings_context(*, job: DataJob, preview: DataJob | None) -> dict[str, Any]:
    """What the settings card shows: the choices the preview calls for, with the current one."""
    params = ImportParams.from_job(job)
    summary = preview.summary if preview is not None and isinstance(preview.summary, dict) else {}
    problems = [p for p in summary.get("problems") or [] if isinstance(p, dict)]
    choices: list[dict[str, Any]] = []
    conflicting = int(summary.get("repeats_conflicting") or 0)
    if conflicting or params.repeats != "fail":
        choices.append(
            {
                "setting": "repeats",
                "field": "",
                "title": "Rows that repeat a key with other values",
                "text": (
                    f"{conflicting:,} {'row repeats' if conflicting == 1 else 'rows repeat'} an earlier row's "
                    "key with other values (the rows show which columns differ)."
                    if conflicting
                    else "Rows repeating a key with other values."
                ),
                "options": list(REPEATS.items()),
                "current": params.repeats,
            }
        )
    decimals = [p for p in problems if p.get("kind") == "decimal_places"]
    if decimals or params.rounding != "reject":
        choices.append(
            {
                "setting": "rounding",
                "field": "",
                "title": "Amounts with more decimals than the field keeps",
                "text": " ".join(p["message"] for p in decimals)
                or "Amounts with more decimal places than the field keeps.",
                "options": list(ROUNDING.items()),
                "current": params.rounding,
            }
        )
    offered = {p["field"]: p for p in problems if p.get("kind") == "excel_serial_dates"}
    chosen = {
        name: opts["date_format"]
        for name, opts in params.options.items()
        if (opts or {}).get("date_format") in EXCEL_DATE_FORMATS
    }
    for field in dict.fromkeys([*offered, *chosen]):
        problem = offered.get(field)
        choices.append(
            {
                "setting": "date_format",
                "field": field,
                "title": f"Numbers in '{problem['column']}'" if problem else f"Dates of {field}",
                "text": problem["message"] if problem else "Read as Excel date numbers.",
                "options": [("", "Not dates (leave as they are)"), *EXCEL.items()],
                "current": chosen.get(field, ""),
            }
        )
    return {"file_settings": choices}


def preview_setting_apply(*, job: DataJob, setting: str, value: str, field: str = "") -> str:
    """Set one choice, check the file again; returns what was done, in words."""
    params = ImportParams.from_job(job)
    if setting == "repeats":
        if value not in REPEATS:
            raise PreviewSettingError("Choose how repeated rows are treated.")
        flow.wizard_configure(job=job, repeats=value)
        note = f"Repeated rows: {REPEATS[value][0].lower()}{REPEATS[value][1:]}."
    elif setting == "rounding":
        if value not in ROUNDINGS:
            raise PreviewSettingError("Choose how amounts with too many decimals are treated.")
        flow.wizard_configure(job=job, rounding=value)
        note = f"Amounts with too many decimals: {ROUNDING[value][0].lower()}{ROUNDING[value][1:]}."
    elif setting == "date_format":
        if not field or (value and value not in EXCEL):
            raise PreviewSettingError("Choose how the column's numbers are read.")
        if value:
            flow.wizard_configure(job=job, date_formats={field: value})
            note = f"The numbers will be read as {EXCEL[value]}."
        else:
            options = {k: dict(v) for k, v in params.options.items()}
            (options.get(field) or {}).pop("date_format", None)
            flow.wizard_configure(job=job, options={k: v for k, v in options.items() if v})
            note = "The numbers will not be read as dates."
    else:
        raise PreviewSettingError("That setting is not known.")
    flow.wizard_preview_start(job=job)
    return note + " The preview is being checked again."
