"""Helpers (no tests here) shared by the ready-made report tests: run a report, read it back."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from reports.exporters import NullProgress, export_render

CENT = Decimal("0.01")


def cents(value) -> Decimal:
    """Round the way the reports promise: exact sum first, then half up to cents."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def run(organization, report: str, fmt: str, tmp_path: Path, params: dict | None = None):
    path = tmp_path / f"{report}.{fmt}"
    progress = NullProgress()
    result = export_render(
        organization=organization,
        exporter=report,
        format=fmt,
        params=params or {},
        path=path,
        progress=progress,
    )
    return path, result, progress


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def run_json(organization, report: str, tmp_path: Path, params: dict | None = None) -> dict:
    path, _, _ = run(organization, report, "json", tmp_path, params)
    return read_json(path)


def read_xlsx(path: Path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb}
    finally:
        wb.close()


def xlsx_summary(rows: list[tuple]) -> dict[str, object]:
    """The label → value pairs of a Summary sheet (title and header lines have one cell)."""
    return {r[0]: r[1] for r in rows if len(r) >= 2 and r[0] is not None and r[1] is not None}


def _is_totals(row: tuple) -> bool:
    return "Total" in row and all(
        v is None or v == "Total" or str(v).startswith("=SUBTOTAL(") for v in row
    )


def xlsx_table(rows: list[tuple]) -> list[dict]:
    """The data rows of a table sheet as dicts (its totals row, if any, left out)."""
    header, *body = rows
    if body and _is_totals(body[-1]):
        body = body[:-1]
    return [dict(zip(header, r, strict=False)) for r in body]


def xlsx_totals(rows: list[tuple]) -> dict:
    """A table sheet's totals row (column → SUBTOTAL formula); empty when it has none."""
    header, *body = rows
    if not body or not _is_totals(body[-1]):
        return {}
    return {h: v for h, v in zip(header, body[-1], strict=False) if v is not None}


def read_csv_sections(path: Path) -> dict[str, list[list[str]]]:
    """Sections of a multi-section CSV: a title line, then its rows, a blank line between."""
    sections: dict[str, list[list[str]]] = {}
    current = None
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if not row:
                current = None
                continue
            if current is None:
                current = row[0]
                sections[current] = []
                continue
            sections[current].append(row)
    return sections


def num(value) -> Decimal:
    """A number read back from XLSX (int/float) or CSV (text) as a Decimal."""
    return Decimal(str(value))
