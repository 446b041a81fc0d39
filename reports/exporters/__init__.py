"""Exporters: every file Ferry produces — resource exports, ready-made reports, documents.

Public API (import from here; the submodules are an implementation detail):

Registry
    ``exporter_get(identifier, *, kind=None)``  the exporter class; ``UnknownExporter`` (a 404,
        code "not_found") otherwise. Identifiers are unique across kinds and are the job's
        ``target``: ``"sales"``, ``"customer-aging"``, ``"contacts"`` (a resource), …
    ``exporters_all(*, kind=None)`` / ``exporters_for(membership, *, kind=None)``  every
        exporter, or those a membership may run, in display order.
    ``register``  class decorator. A module in a package of ``registry.EXPORTER_PACKAGES``
        (``reports.ready.catalog`` today) registers itself on import; add a package there
        for a new family of exporters.

Kinds (``Exporter.kind``)
    ``"report"``   ready-made reports (``reports.ready.base.Report``), one module each in
                   ``reports/ready/catalog/``: its form, its queries and its class.
    ``"records"``  one per resource (``reports.exports.exporter``), derived from
                   ``business.resources``; params ``{"filters", "columns", "options"}``.
    ``"document"`` one per printed paper of a sales order (``reports.documents.kinds``):
                   invoice, delivery note, picking list, quote; formats ``pdf`` (merged) and
                   ``zip`` (one PDF per order), permission ``can_print_<kind>``; they make
                   their own files (``own_file`` / ``render_file``), not tables.

One path for every kind (``reports.exporters.services``)
    ``export_create(*, organization, user, exporter, format, params=None, template=None)``
        validates (format, permission, parameters) and records a pending ``DataJob``.
    ``export_start(*, job)`` queues it after the transaction commits (one Huey task).
    ``export_run(*, job, progress)`` the task body: checks the permission again (the owner's,
        at run time), renders into a temporary file, stores it as the job's output with the
        file name ``<identifier>-<org slug>-<YYYYmmdd-HHMM>.<ext>``, writes one audit event
        and returns the job's summary.
    ``export_render(*, organization, exporter, format, params, path, progress)`` writes a
        file without a job (the command line); ``export_audit(...)`` records it.

Writing an exporter
    Subclass ``Exporter`` and set ``identifier``, ``name``, ``kind``, ``noun``,
    ``permission`` / ``pdf_permission`` and ``form_class`` (a form taking ``organization=``
    with ``params()`` → JSON-safe dict and ``describe()`` → list of "Label: value" lines);
    implement ``render(*, organization, params, writer, progress) -> {"rows": n, …}`` which
    calls ``writer.summary(title, items)``, ``writer.section(title, columns)`` and
    ``writer.row(values)`` and reports progress (``RowCounter`` does it in batches and checks
    for cancellation). Override the classmethods (``permission_for``, ``params_clean``,
    ``job_params``/``params_of``, ``result_url``, ``writer_options``, ``job_summary``) only
    where the kind differs.

Errors a caller handles: ``ExportParamsInvalid`` (``errors``: field → messages),
``ExportPermissionDenied`` (a ``PermissionDenied`` with ``message``), ``ExportAccessLost``
(the run found the permission gone), ``UnknownExporter``; all but the permission one are
``FerryError``.
"""

from reports.exporters.base import (
    FORMAT_LABELS,
    Cleaned,
    ExportAccessLost,
    Exporter,
    ExportParamsInvalid,
    ExportPermissionDenied,
    NullProgress,
    Progress,
    RowCounter,
    UnknownExporter,
)
from reports.exporters.registry import exporter_get, exporters_all, exporters_for, register
from reports.exporters.services import (
    export_audit,
    export_create,
    export_filename,
    export_render,
    export_run,
    export_start,
)

__all__ = [
    "FORMAT_LABELS",
    "Cleaned",
    "ExportAccessLost",
    "ExportParamsInvalid",
    "ExportPermissionDenied",
    "Exporter",
    "NullProgress",
    "Progress",
    "RowCounter",
    "UnknownExporter",
    "export_audit",
    "export_create",
    "export_filename",
    "export_render",
    "export_run",
    "export_start",
    "exporter_get",
    "exporters_all",
    "exporters_for",
    "register",
]
