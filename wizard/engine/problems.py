"""Problems that fail many rows the same way, grouped into one summary line with the setting
that fixes them: 10,194 amounts with a third decimal are one line offering rounding, a date
column of bare Excel serials is one line offering to read them as Excel dates.

Each row still has its own row-log entry (and its line in the failed-rows file); the grouping
is what a person reads first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from business.resources import FieldType
from wizard.engine.validation import FieldPlan
from wizard.parsing import (
    EXCEL_DATE_FORMATS,
    ROUNDINGS,
    excel_serial_datetime,
    excel_serial_number,
    excel_serials_plausible,
    quote,
)

T = FieldType
ROUNDING_CHOICES = [name for name in ROUNDINGS if name != "reject"]
EXCEL_CHOICES = list(EXCEL_DATE_FORMATS)


def excel_date_candidates(
    *, plans: Sequence[FieldPlan], rows: Sequence[Sequence[Any]], fixed: dict[str, str]
) -> list[tuple[FieldPlan, Any]]:
    """Date columns with no format set whose every sampled value is a plausible Excel serial,
    each with the first such value (for the message)."""
    found = []
    for plan in plans:
        if plan.field.type not in (T.DATE, T.DATETIME) or plan.index is None:
            continue
        if plan.name in fixed:
            continue
        values = [r[plan.index] for r in rows if plan.index < len(r)]
        if excel_serials_plausible(values):
            example = next(v for v in values if excel_serial_number(v) is not None)
            found.append((plan, example))
    return found


def problems_collect(
    *, plans: Iterable[FieldPlan], excel: Sequence[tuple[FieldPlan, Any]]
) -> list[dict[str, Any]]:
    """The grouped problems of a run, from what its plans tallied while parsing."""
    out: list[dict[str, Any]] = []
    for plan, example in excel:
        failed = plan.tally["not_a_date"]
        day = excel_serial_datetime(excel_serial_number(example), "excel-1900").date()
        rows = f"{failed:,} row{'s' if failed != 1 else ''}" if failed else "Its rows"
        out.append(
            {
                "kind": "excel_serial_dates",
                "column": plan.column,
                "field": plan.name,
                "count": failed,
                "message": (
                    f"Every value in '{plan.column}' is a number such as {example}: they look "
                    f"like Excel dates ({example} is {day:%-d %b %Y} in Excel's 1900 date "
                    f"system). {rows} failed as not a date: read the column as Excel dates "
                    "(1900 or 1904 system)."
                ),
                "offer": {"setting": "date_format", "field": plan.name, "choices": EXCEL_CHOICES},
            }
        )
    for plan in plans:
        count = plan.tally["decimal_places"]
        if not count:
            continue
        places = getattr(plan.model_field, "decimal_places", None)
        example = plan.examples.get("decimal_places", "")
        out.append(
            {
                "kind": "decimal_places",
                "column": plan.column,
                "field": plan.name,
                "count": count,
                "message": (
                    f"{count:,} value{'s' if count != 1 else ''} in '{plan.column}' "
                    f"{'have' if count != 1 else 'has'} more than {places} decimal places "
                    f"(e.g. {quote(example)}). Round them (half-up or half-even), or fix the file."
                ),
                "offer": {"setting": "rounding", "choices": ROUNDING_CHOICES},
            }
        )
    return out


def rounded_collect(plans: Iterable[FieldPlan]) -> dict[str, int]:
    return {p.name: p.tally["rounded"] for p in plans if p.tally["rounded"]}
