"""The settings of one import run, read from a job's params (the contract the wizard, CLI and
API all fill in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from business.resources import Resource, resource_get
from jobs.errors import FerryError
from wizard.parsing import ROUNDINGS, options_clean

ON_DUPLICATE = ("skip", "update", "create")
MODES = ("atomic", "skip-invalid")
# Rows repeating an earlier row's key with other values: fail them, or let the first or the
# last row win (identical repeats are always merged). See wizard.engine.identity.
REPEATS = ("fail", "first", "last")


class ImportConfigError(FerryError):
    pass


@dataclass
class ImportSettings:
    resource: type[Resource]
    mapping: dict[str, str]
    options: dict[str, dict] = field(default_factory=dict)
    rules: dict[str, dict] = field(default_factory=dict)
    on_duplicate: str = "skip"
    mode: str = "skip-invalid"
    dry_run: bool = False
    limit: int | None = None
    create_missing: dict[str, bool] = field(default_factory=dict)
    reference_map: dict[str, dict[str, str]] = field(default_factory=dict)
    # Date formats by field: set by the user (options) or guessed by an earlier preview.
    date_formats: dict[str, str] = field(default_factory=dict)
    preview_for: int | None = None
    repeats: str = "fail"
    # Money and decimals with more places than the field: "reject", "half-up", "half-even".
    rounding: str = "reject"

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ImportSettings:
        resource = resource_get(params["resource"])
        on_duplicate = params.get("on_duplicate") or "skip"
        if on_duplicate not in ON_DUPLICATE:
            raise ImportConfigError(
                f"Unknown duplicate handling '{on_duplicate}'; use one of {', '.join(ON_DUPLICATE)}."
            )
        mode = params.get("mode") or "skip-invalid"
        if mode not in MODES:
            raise ImportConfigError(f"Unknown mode '{mode}'; use one of {', '.join(MODES)}.")
        repeats = params.get("repeats") or "fail"
        if repeats not in REPEATS:
            raise ImportConfigError(
                f"Unknown repeats handling '{repeats}'; use one of {', '.join(REPEATS)}."
            )
        rounding = params.get("rounding") or "reject"
        if rounding not in ROUNDINGS:
            raise ImportConfigError(
                f"Unknown rounding '{rounding}'; use one of {', '.join(ROUNDINGS)}."
            )
        limit = params.get("limit")
        if limit is not None:
            limit = int(limit)
            if limit < 1:
                raise ImportConfigError("The row limit must be 1 or more.")
        mapping = {str(h): str(f) for h, f in (params.get("mapping") or {}).items() if f}
        return cls(
            resource=resource,
            mapping=mapping,
            options=options_clean(params.get("options")),
            rules={str(k): dict(v) for k, v in (params.get("rules") or {}).items() if v},
            on_duplicate=on_duplicate,
            mode=mode,
            dry_run=bool(params.get("dry_run")),
            limit=limit,
            create_missing={
                str(k): bool(v) for k, v in (params.get("create_missing") or {}).items()
            },
            reference_map={
                str(k): {str(a): str(b) for a, b in (v or {}).items()}
                for k, v in (params.get("reference_map") or {}).items()
            },
            date_formats=dict(params.get("date_formats") or {}),
            preview_for=params.get("preview_for"),
            repeats=repeats,
            rounding=rounding,
        )
