"""The ``Exporter`` base class and what every exporter reports to (pretix-style exporters).

An exporter is a small class: who may run it (per format), how its parameters are cleaned into
JSON-safe values (usually through a Django form), and ``render``, which streams a summary block
and tables into a writer from ``business.writers``. The one service path in
``reports.exporters.services`` does the rest — the job, the permission checks before queueing and
again in the worker, the file name, the stored file and the audit event — so none of that is
written again per kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, ClassVar, Protocol

from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models.sql.constants import MULTI

from jobs.errors import FerryError

FORMAT_LABELS = {
    "xlsx": "Excel (XLSX)",
    "pdf": "PDF",
    "csv": "CSV",
    "json": "JSON",
    "zip": "ZIP (one file per order)",
}
# How many rows are written between two progress reports and cancellation checks.
PROGRESS_EVERY = 500


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
    """Counts rows written across an export's tables and reports progress every few hundred."""

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


# Rows fetched per database round trip (a server-side cursor's batch on PostgreSQL) while
# streaming a table; also how often an export reports progress and looks for cancellation.
CHUNK_SIZE = 2000


@dataclass
class RowChunks:
    """A query's rows as the database cursor returned them, one list per fetch, and per column
    the function turning a cell into the value ``values_list`` would have given (None: as is).

    Hand both to a writer: ``writer.section(title, columns, converters=chunks.converters)``,
    then ``writer.chunk(rows)`` for each list in ``chunks.chunks``.
    """

    chunks: Iterator[list]
    converters: list[Callable[[Any], Any] | None]

    def then(self, index: int, convert: Callable[[Any], Any]) -> None:
        """Apply ``convert`` to column ``index`` after what is already done to it."""
        from business.writers.base import Steps

        self.converters[index] = Steps.then(self.converters[index], convert)

    def rows(self) -> Iterator[tuple]:
        """The rows one by one as Python values (previews, small reads)."""
        from business.writers.base import row_function

        cells = [f"v{i}" for i in range(len(self.converters))]
        return map(
            row_function(cells, {}, converters=self.converters), chain.from_iterable(self.chunks)
        )


def queryset_chunks(queryset, *, chunk_size: int = CHUNK_SIZE) -> RowChunks:
    """A ``values_list`` queryset's rows in chunks straight from the cursor (``RowChunks``).

    ``values_list().iterator()`` builds each row through a generic loop (a list, a loop over
    the columns Django converts, a tuple), which a million-row CSV pays again in its own per-row
    step. Here the converters Django would apply (SQLite's dates and booleans, JSON, decimals)
    are handed over per column, so a writer applies them in the function it compiles per row
    anyway. The query runs as ``iterator(chunk_size=...)`` runs it: a server-side cursor on
    PostgreSQL unless the database settings disable them.
    """
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    chunked = not connections[queryset.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    chunks = compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=chunk_size)
    width = len(queryset._fields or ()) or len(query.values_select)
    converters: list[Callable[[Any], Any] | None] = [None] * width
    if compiler.select is not None:
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if len(fields) != width or compiler.has_composite_fields(fields):
            raise ValueError("queryset_chunks takes a values_list() of plain fields.")
        from business.writers.base import Call, Steps

        connection = compiler.connection
        for index, (convs, expression) in compiler.get_converters(fields).items():
            # Called as Django calls them, written straight into the writer's row function.
            calls = [Call(convert, expression, connection) for convert in convs]
            converters[index] = calls[0] if len(calls) == 1 else Steps(calls)
    return RowChunks(chunks=iter(chunks), converters=converters)


class UnknownExporter(FerryError):
    def __init__(self, identifier: str, *, noun: str, known: Iterable[str]):
        known_text = ", ".join(sorted(known))
        super().__init__(
            f"Unknown {noun} '{identifier}'. Known {noun}s: {known_text}.", code="not_found"
        )
        self.identifier = identifier


class ExportParamsInvalid(FerryError):
    """The parameters do not pass the exporter's form; ``errors`` maps field → messages."""

    def __init__(self, errors: dict[str, list[str]], *, what: str = "the report"):
        self.errors = {name: [str(m) for m in messages] for name, messages in errors.items()}
        parts = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())
        super().__init__(f"The parameters for {what} are not valid. {parts}", code="invalid")


class ExportPermissionDenied(PermissionDenied):
    """The user may not run this exporter (or not in this format). A 403 in views and the API."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ExportAccessLost(FerryError):
    """Between queueing and running, the user lost the permission the export needs."""


@dataclass
class Cleaned:
    """An exporter's parameters after validation: JSON-safe values stored on the job, and the
    filters in words (printed in the file's header and shown on the job page)."""

    params: dict[str, Any]
    filters_text: list[str] = field(default_factory=list)


_FALSE_WORDS = {"", "0", "false", "no", "off", "n"}


def _normalize(form_class, params: dict[str, Any]) -> dict[str, Any]:
    """Accept the spellings an API client or a command line naturally uses."""
    from django import forms

    data: dict[str, Any] = {}
    for name, value in params.items():
        form_field = form_class.base_fields.get(name)
        if isinstance(form_field, forms.MultipleChoiceField) and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(form_field, forms.BooleanField) and isinstance(value, str):
            value = value.strip().lower() not in _FALSE_WORDS
        elif isinstance(value, bool | int | float) and not isinstance(
            form_field, forms.BooleanField
        ):
            value = str(value)
        data[name] = value
    return data


class Exporter(ABC):
    """One kind of file Ferry can produce. Subclasses set the class attributes and ``render``.

    The defaults fit a form-driven exporter (a ready-made report, a document): ``form_class``
    turns user input into parameters, ``permission`` gates running it and ``pdf_permission``
    its PDF. A kind with other rules (the resource export) overrides the classmethods.
    """

    identifier: ClassVar[str]  # unique across every kind; also the job's ``target``
    name: ClassVar[str]
    description: ClassVar[str] = ""
    # The registry groups exporters by kind ("report", "records", …); the noun names one in
    # messages ("Unknown report 'x'").
    kind: ClassVar[str]
    noun: ClassVar[str] = "export"
    # Where it sits in lists of its kind (smaller first, then by name).
    order: ClassVar[int] = 100
    formats: ClassVar[tuple[str, ...]] = ("csv", "xlsx", "json", "pdf")
    job_type: ClassVar[str] = "report"  # a DataJob.Type value
    audit_event: ClassVar[str] = "report"  # an AuditEvent.Type value
    permission: ClassVar[str] = ""
    pdf_permission: ClassVar[str] = ""
    form_class: ClassVar[type | None] = None
    # A kind that lays out and packs its own files (documents: PDFs, a ZIP) sets this and
    # implements ``render_file``; the others stream tables into the format's writer (``render``).
    own_file: ClassVar[bool] = False
    # Whether the key figures may be kept in the job's summary, which every member of the
    # organization sees on the jobs pages and in the API (the file itself stays gated).
    figures_in_job: ClassVar[bool] = True

    # --- permissions ------------------------------------------------------------------------
    @classmethod
    def permission_for(cls, format: str) -> str:
        """The code a person needs to produce (and download) this export in ``format``."""
        return cls.pdf_permission if format == "pdf" else cls.permission

    @classmethod
    def may_run(cls, membership) -> bool:
        return membership is not None and membership.has_perm(cls.permission_for(""))

    @classmethod
    def may_export(cls, membership, format: str) -> bool:
        return cls.may_run(membership) and membership.has_perm(cls.permission_for(format))

    @classmethod
    def formats_for(cls, membership) -> list[str]:
        return [f for f in cls.formats if cls.may_export(membership, f)]

    @classmethod
    def permission_check(cls, *, membership, format: str) -> None:
        """ExportPermissionDenied (a 403) naming the missing code, unless allowed."""
        if not cls.may_run(membership):
            raise ExportPermissionDenied(
                f"You do not have the permission to run the {cls.noun} '{cls.name}' "
                f"({cls.permission_for('')})."
            )
        if not cls.may_export(membership, format):
            raise ExportPermissionDenied(
                f"You do not have the permission to export the {cls.noun} '{cls.name}' as "
                f"{format.upper()} ({cls.permission_for(format)})."
            )

    # --- parameters -------------------------------------------------------------------------
    @classmethod
    def format_clean(cls, format: str) -> str:
        key = (format or "").strip().lower()
        if key not in cls.formats:
            raise ExportParamsInvalid(
                {"format": [f"Unknown format '{format}'. Choose one of: {', '.join(cls.formats)}."]}
            )
        return key

    @classmethod
    def form(cls, *, organization, data=None, initial=None):
        return cls.form_class(organization=organization, data=data, initial=initial)

    @classmethod
    def clean_params(cls, *, organization, params: dict[str, Any] | None):
        """Validate parameters through the form; the bound, valid form, or ExportParamsInvalid."""
        what = f"the {cls.noun} '{cls.identifier}'"
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ExportParamsInvalid(
                {"params": ["Parameters must be an object of name → value."]}, what=what
            )
        known = list(cls.form_class.base_fields)
        unknown = [name for name in params if name not in known]
        if unknown:
            raise ExportParamsInvalid(
                {
                    name: [f"Unknown parameter '{name}'. Known parameters: {', '.join(known)}."]
                    for name in unknown
                },
                what=what,
            )
        form = cls.form(organization=organization, data=_normalize(cls.form_class, params))
        if not form.is_valid():
            raise ExportParamsInvalid(
                {name: list(errors) for name, errors in form.errors.items()}, what=what
            )
        return form

    @classmethod
    def params_clean(cls, *, organization, params: dict[str, Any] | None) -> Cleaned:
        form = cls.clean_params(organization=organization, params=params)
        return Cleaned(params=form.params(), filters_text=form.describe())

    @classmethod
    def template_apply(cls, *, template, format: str, params: dict[str, Any]):
        """Fill in what a saved template holds; only kinds with templates accept one."""
        raise FerryError(f"The {cls.noun} '{cls.name}' does not use saved templates.")

    @classmethod
    def check(cls, *, organization, format: str, params: dict[str, Any]) -> None:
        """Refuse before queueing what is known to fail (e.g. too many rows for a PDF);
        nothing is known to fail by default."""
        return None

    # --- the job ----------------------------------------------------------------------------
    @classmethod
    def job_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Where the cleaned parameters sit in ``DataJob.params`` (``params_of`` reads them)."""
        return {"report_params": params}

    @classmethod
    def params_of(cls, job) -> dict[str, Any]:
        return (job.params or {}).get("report_params", {})

    @classmethod
    def result_url(cls, job) -> str | None:
        """The page that shows this export's outcome, linked from the jobs pages."""
        return None

    @classmethod
    def title(cls, *, params: dict[str, Any]) -> str:
        return cls.name

    @classmethod
    def writer_options(cls, *, format: str, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    @classmethod
    def extension_for(cls, format: str) -> str:
        """The file name's extension for ``format`` (the format's writer's)."""
        from business.writers import writer_for

        return writer_for(format).extension

    @classmethod
    def job_label(cls, *, params: dict[str, Any]) -> str:
        """What the jobs pages call this export (``DataJob.target_label``)."""
        return str(cls.name)

    @classmethod
    def audit_repr(cls, *, format: str) -> str:
        return cls.name

    @classmethod
    def audit_details(cls, *, params: dict[str, Any]) -> dict[str, Any]:
        return {"params": params}

    @classmethod
    def job_summary(cls, *, job, params: dict[str, Any], result: dict[str, Any]) -> dict:
        """What the job keeps as its summary (every member sees it: no gated figures)."""
        return {"rows": result.get("rows", 0)}

    # --- output -----------------------------------------------------------------------------
    def render_file(self, *, organization, params: dict[str, Any], format: str, path, progress):
        """Write the whole file at ``path`` (kinds with ``own_file``); ``{"rows": n, …}``."""
        raise NotImplementedError(f"{type(self).__name__} streams tables: use render.")

    @abstractmethod
    def render(self, *, organization, params: dict[str, Any], writer, progress: Progress) -> dict:
        """Write the summary block and the tables; return ``{"rows": n, …}``.

        ``params`` are the JSON-safe values ``params_clean`` produced; an exporter validates
        them again here (a chosen record may have disappeared since the job was queued).
        """
