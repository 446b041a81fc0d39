"""The ready-made reports' kind of exporter, and the arithmetic they share.

A report is one module in ``reports/ready/catalog/``: its filter form, its queries and its
``Report`` subclass decorated with ``@register``. Everything else (jobs, permissions, files,
audit) is the exporters' one path in ``reports.exporters``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.urls import reverse

from reports.exporters import Exporter

CENT = Decimal("0.01")
# Aggregates come back from SQLite as binary floats (Django trims them to 15 significant
# digits); six places is finer than any stored value (quantity 3 × price 2 = 5 places), so
# quantizing there restores the exact decimal before money is rounded.
EXACT = Decimal("0.000001")
ZERO = Decimal("0")


def dec(value: Any) -> Decimal:
    """A database aggregate as an exact Decimal (None, as for an empty sum, is zero)."""
    if value is None:
        return ZERO
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(EXACT)


def money(value: Any) -> Decimal:
    """Round an amount to cents, half up, as an invoice would (not banker's rounding)."""
    return dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Any, whole: Any) -> Decimal | None:
    """``part`` as a percentage of ``whole``, two places; None when ``whole`` is zero."""
    whole = dec(whole)
    if whole == 0:
        return None
    return (dec(part) * 100 / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def margin(profit: Any, revenue: Any) -> Decimal | None:
    """Profit as a percentage of revenue; none when there is no positive revenue to divide by
    (a margin on a net refund reads as nonsense such as 27,875 %)."""
    return percent(profit, revenue) if dec(revenue) > 0 else None


def quantity(value: Any) -> Decimal | int:
    """A quantity as people write it: whole numbers as integers (10.000 → 10), others without
    trailing zeros (2.500 → 2.5)."""
    value = dec(value)
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


class Table:
    """One table of a report, written through the writer.

    A printed page has room for fewer columns than a spreadsheet: columns named in ``pdf_skip``
    (details a reader of the PDF can do without, such as a customer's e-mail next to their
    name) are left out of PDF output only; every other format gets them all.
    """

    def __init__(self, writer, title: str, columns: list, *, pdf_skip: tuple[str, ...] = ()):
        self.writer = writer
        printing = getattr(writer, "extension", "") == "pdf"
        self.keep = [i for i, c in enumerate(columns) if not (printing and c.name in pdf_skip)]
        self.all = len(self.keep) == len(columns)
        writer.section(title, [columns[i] for i in self.keep])

    def row(self, values: list) -> None:
        self.writer.row(values if self.all else [values[i] for i in self.keep])


class Report(Exporter):
    """A ready-made report. Subclasses set the class attributes and implement ``render``."""

    kind = "report"
    noun = "report"
    job_type = "report"
    audit_event = "report"
    # How the figures are computed, in a sentence or two, shown on the report's page.
    rules: ClassVar[tuple[str, ...]] = ()
    # The tables the report writes, in order (XLSX sheet names after "Summary").
    sections: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def result_url(cls, job) -> str:
        # The report's own page shows its key figures and the download.
        return reverse("reports:report_job", kwargs={"identifier": cls.identifier, "pk": job.pk})

    @classmethod
    def writer_options(cls, *, format: str, params: dict[str, Any]) -> dict[str, Any]:
        # Reports print wide tables: their PDF cells get more padding and a smaller header.
        return {"sections": True, **({"pdf_style": "report"} if format == "pdf" else {})}

    @classmethod
    def job_summary(cls, *, job, params: dict[str, Any], result: dict[str, Any]) -> dict:
        summary: dict[str, Any] = {"report": cls.identifier, "rows": result.get("rows", 0)}
        if cls.figures_in_job:
            summary["figures"] = _json_safe(result.get("figures", {}))
            # Shown as text on the report's page; the underscore keeps the jobs page from
            # listing it.
            summary["_key_figures"] = result.get("summary_items", [])
        return summary


def _json_safe(value: Any) -> Any:
    """Figures for the job summary (a JSONField): Decimals as strings, keeping their digits."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
