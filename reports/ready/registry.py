"""The registry of ready-made reports: identifier → Report class."""

from __future__ import annotations

from jobs.errors import FerryError
from reports.ready.base import Report

_reports: dict[str, type[Report]] = {}
# The order people meet them in: money first, the audit trail last.
ORDER = ("sales", "customer-aging", "inventory-valuation", "audit-log")


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
    rank = {identifier: n for n, identifier in enumerate(ORDER)}
    return sorted(_reports.values(), key=lambda r: (rank.get(r.identifier, len(ORDER)), r.name))


def report_get(identifier: str) -> type[Report]:
    _load()
    try:
        return _reports[identifier]
    except KeyError as exc:
        raise UnknownReport(str(identifier)) from exc


def reports_for(membership) -> list[type[Report]]:
    """The reports a membership may run, in registry order."""
    return [r for r in report_all() if r.may_run(membership)]
