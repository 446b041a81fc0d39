"""The registry of ready-made reports: identifier → Report class."""

from __future__ import annotations

from jobs.errors import FerryError
from reports.ready.base import Report

_reports: dict[str, type[Report]] = {}


class UnknownReport(FerryError):
    def __init__(self, identifier: str):
        known = ", ".join(sorted(_reports))
        super().__init__(
            f"Unknown report '{identifier}'. Known reports: {known}.", code="not_found"
        )
        self.identifier = identifier


def register(report: type[Report]) -> type[Report]:
    _reports[report.identifier] = report
    return report


def _load() -> None:
    # The report modules register themselves on import; importing here keeps callers from
    # depending on import order.
    from reports.ready import aging, audit, inventory, sales  # noqa: F401


def report_all() -> list[type[Report]]:
    _load()
    return list(_reports.values())


def report_get(identifier: str) -> type[Report]:
    _load()
    try:
        return _reports[identifier]
    except KeyError as exc:
        raise UnknownReport(str(identifier)) from exc


def reports_for(membership) -> list[type[Report]]:
    """The reports a membership may run, in registry order."""
    return [r for r in report_all() if r.may_run(membership)]
