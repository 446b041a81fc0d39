"""The exporter registry: identifier → exporter class, for every kind.

Two sources fill it:

- classes decorated with ``@register`` in the modules of ``EXPORTER_PACKAGES`` (every module of
  those packages is imported on first use, so adding a ready-made report is adding one module
  to ``reports/ready/catalog/`` — no list to edit);
- one resource exporter per resource in ``business.resources.registry``, derived on demand, so
  a newly declared resource is exportable with no edit here.

Identifiers are unique across kinds (a report may not be called like a resource); a clash is a
configuration error raised at load time.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from django.core.exceptions import ImproperlyConfigured

from reports.exporters.base import Exporter, UnknownExporter

# Packages whose every module is imported (or modules imported) so their exporters register
# themselves: the ready-made reports, one module each; the document kinds, one module for all.
EXPORTER_PACKAGES = ["reports.ready.catalog", "reports.documents.kinds"]

_registered: dict[str, type[Exporter]] = {}


def register(exporter: type[Exporter]) -> type[Exporter]:
    """Class decorator: make ``exporter`` known by its identifier."""
    existing = _registered.get(exporter.identifier)
    if existing is not None and existing.__qualname__ != exporter.__qualname__:
        raise ImproperlyConfigured(
            f"Two exporters share the identifier '{exporter.identifier}': "
            f"{existing.__module__}.{existing.__qualname__} and "
            f"{exporter.__module__}.{exporter.__qualname__}."
        )
    _registered[exporter.identifier] = exporter
    return exporter


@cache
def _load() -> None:
    for package_name in EXPORTER_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(getattr(package, "__path__", [])):
            importlib.import_module(f"{package_name}.{module.name}")


def _resource_exporters() -> dict[str, type[Exporter]]:
    from business.resources import registry as resources
    from reports.exports.exporter import resource_exporter

    found = {r.name: resource_exporter(r) for r in resources.all()}
    clash = sorted(set(found) & set(_registered))
    if clash:
        raise ImproperlyConfigured(
            f"Exporter identifiers {', '.join(clash)} are also resource names; rename them."
        )
    return found


def _all() -> dict[str, type[Exporter]]:
    _load()
    return {**_registered, **_resource_exporters()}


def exporters_all(*, kind: str | None = None) -> list[type[Exporter]]:
    """Every exporter (of one kind), ordered by ``order`` then name."""
    found = [e for e in _all().values() if kind is None or e.kind == kind]
    return sorted(found, key=lambda e: (e.order, e.name))


def exporter_get(identifier: str, *, kind: str | None = None) -> type[Exporter]:
    """The exporter with this identifier (of this kind); UnknownExporter (a 404) otherwise."""
    found = _all().get(str(identifier))
    if found is None or (kind is not None and found.kind != kind):
        known = [e for e in _all().values() if kind is None or e.kind == kind]
        noun = known[0].noun if kind is not None and known else "export"
        raise UnknownExporter(str(identifier), noun=noun, known=[e.identifier for e in known])
    return found


def exporters_for(membership, *, kind: str | None = None) -> list[type[Exporter]]:
    """The exporters a membership may run, in list order."""
    return [e for e in exporters_all(kind=kind) if e.may_run(membership)]
