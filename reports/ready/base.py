"""The ``Report`` base class: one small class per ready-made report (pretix-style exporters).

A report declares who may run it, the filter form that turns user input into JSON-safe
parameters, and ``render``, which streams a summary block and its tables into a writer. The
job machinery, the views, the API and the CLI all go through these classes; none of them knows
how a particular report computes its figures.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar, Protocol

from jobs.errors import FerryError

CENT = Decimal("0.01")
# Aggregates come back from SQLite as binary floats (Django trims them to 15 significant
# digits); six places is finer than any stored value (quantity 3 × price 2 = 5 places), so
# quantizing there restores the exact decimal before money is rounded.
EXACT = Decimal("0.000001")
ZERO = Decimal("0")
REPORT_FORMATS = ("csv", "xlsx", "json", "pdf")
FORMAT_LABELS = {"xlsx": "Excel (XLSX)", "pdf": "PDF", "csv": "CSV", "json": "JSON"}
# How many rows are written between two progress reports and cancellation checks.
PROGRESS_EVERY = 500


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


class Progress(Protocol):
    """What ``render`` reports to: ``jobs.services.JobProgress`` or the CLI's console progress."""

    def set_total(self, total: int | None) -> None: ...

    def update(self, *, processed: int, **counts: int) -> Any: ...

    def check_cancel(self, *, force: bool = False) -> None: ...


class NullProgress:
    """Progress that goes nowhere (tests, or a caller that does not care)."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.processed = 0

    def set_total(self, total: int | None) -> None:
        self.total = total

    def update(self, *, processed: int, **counts: int) -> None:
        self.processed = processed

    def check_cancel(self, *, force: bool = False) -> None:
        return None


class RowCounter:
    """Counts rows written across a report's tables and reports progress every few hundred."""

    def __init__(self, progress: Progress, total: int):
        self.progress = progress
        self.done = 0
        progress.set_total(total)

    def each(self, rows: Iterable[Any]) -> Iterator[Any]:
        for item in rows:
            yield item
            self.done += 1
            if self.done % PROGRESS_EVERY == 0:
                self.progress.check_cancel()
                self.progress.update(processed=self.done, succeeded=self.done)

    def finish(self) -> None:
        self.progress.update(processed=self.done, succeeded=self.done, force=True)


class ReportError(FerryError):
    """A report could not be produced for a reason the user can act on."""


class ReportParamsInvalid(FerryError):
    """The parameters do not pass the report's form; ``errors`` maps field → messages."""

    def __init__(self, errors: dict[str, list[str]], *, report: str = ""):
        self.errors = {name: [str(m) for m in messages] for name, messages in errors.items()}
        parts = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())
        what = f"the report '{report}'" if report else "the report"
        super().__init__(f"The parameters for {what} are not valid. {parts}", code="invalid")


_FALSE_WORDS = {"", "0", "false", "no", "off", "n"}


def _normalize(form_class, params: dict[str, Any]) -> dict[str, Any]:
    """Accept the spellings an API client or a command line naturally uses."""
    from django import forms

    data: dict[str, Any] = {}
    for name, value in params.items():
        field = form_class.base_fields.get(name)
        if isinstance(field, forms.MultipleChoiceField) and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(field, forms.BooleanField) and isinstance(value, str):
            value = value.strip().lower() not in _FALSE_WORDS
        elif isinstance(value, bool | int | float) and not isinstance(field, forms.BooleanField):
            value = str(value)
        data[name] = value
    return data


class Report(ABC):
    """A ready-made report. Subclasses set the class attributes and implement ``render``."""

    identifier: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    # How the figures are computed, in a sentence or two, shown on the report's page.
    rules: ClassVar[tuple[str, ...]] = ()
    # The permission code needed to run the report, and the one needed for its PDF.
    permission: ClassVar[str]
    pdf_permission: ClassVar[str]
    form_class: ClassVar[type]
    # The tables the report writes, in order (XLSX sheet names after "Summary").
    sections: ClassVar[tuple[str, ...]] = ()
    # Whether the key figures may be kept in the job's summary, which every member of the
    # organization sees on the jobs pages and in the API (the file itself stays gated).
    figures_in_job: ClassVar[bool] = True

    # --- permissions ------------------------------------------------------------------------
    @classmethod
    def may_run(cls, membership) -> bool:
        return membership is not None and membership.has_perm(cls.permission)

    @classmethod
    def may_export_pdf(cls, membership) -> bool:
        return cls.may_run(membership) and membership.has_perm(cls.pdf_permission)

    @classmethod
    def file_permission(cls, format: str) -> str:
        """The code a person needs to download this report's file in ``format``."""
        return cls.pdf_permission if format == "pdf" else cls.permission

    # --- parameters -------------------------------------------------------------------------
    @classmethod
    def form(cls, *, organization, data=None, initial=None):
        return cls.form_class(organization=organization, data=data, initial=initial)

    @classmethod
    def clean_params(cls, *, organization, params: dict[str, Any] | None):
        """Validate parameters through the form; the bound, valid form, or ReportParamsInvalid."""
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ReportParamsInvalid(
                {"params": ["Parameters must be an object of name → value."]},
                report=cls.identifier,
            )
        known = list(cls.form_class.base_fields)
        unknown = [name for name in params if name not in known]
        if unknown:
            raise ReportParamsInvalid(
                {
                    name: [f"Unknown parameter '{name}'. Known parameters: {', '.join(known)}."]
                    for name in unknown
                },
                report=cls.identifier,
            )
        form = cls.form(organization=organization, data=_normalize(cls.form_class, params))
        if not form.is_valid():
            raise ReportParamsInvalid(
                {name: list(errors) for name, errors in form.errors.items()},
                report=cls.identifier,
            )
        return form

    # --- output -----------------------------------------------------------------------------
    @abstractmethod
    def render(self, *, organization, params: dict[str, Any], writer, progress: Progress) -> dict:
        """Write the summary block and the tables; return ``{"rows": n, "figures": {...}}``."""
