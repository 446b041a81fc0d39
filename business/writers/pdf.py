"""PDF through WeasyPrint, rendered in bounded chunks and joined with continuous page numbers.

WeasyPrint lays out a whole document in memory (about 7 MB a page) and spends ~8 ms of CPU per
table row, so rows are rendered ``chunk_rows`` at a time into separate PDFs in a temporary
folder, by a few worker processes (``pdf_worker.py``) when the export is longer than one chunk:
memory stays bounded by one chunk per worker, and the layout uses every core. At close the
chunks are joined with pypdf and every page is stamped "Page n of N": the total is only known
once all chunks exist, and stamping is cheap compared with a second layout pass.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from pypdf import PdfReader, PdfWriter

from accounts.formats import date_format, number_format, quantity_format
from business.resources import FieldType
from business.writers import pdf_worker
from business.writers.base import NUMERIC_TYPES, Column, Writer, display_value, naive_local
from jobs.errors import FerryError, LimitExceeded

# Rows per WeasyPrint document: ~150 MB of memory per rendering process at 500 rows; CPU time
# per row does not depend on it (measured 300-2,000).
DEFAULT_CHUNK_ROWS = 500
# More columns than this (or more estimated text than WIDE_CHARS) prints on landscape pages.
WIDE_COLUMNS = 6
WIDE_CHARS = 110
# Rows of each table looked at to share the page width between its columns.
WIDTH_SAMPLE_ROWS = 50
PAGE_NUMBER_SIZE = 7
# Points above the page's bottom edge: the baseline of the @bottom-left footer in base_table.css
# (16 mm bottom margin, 7 pt text at the top of the margin box), so both sit on one line.
PAGE_NUMBER_BASELINE = 39.0


class PdfRenderError(FerryError):
    def __init__(self, detail: str):
        super().__init__(
            "The PDF could not be rendered. Try again, or export to Excel (XLSX) or CSV."
        )
        self.detail = detail


def default_workers() -> int:
    configured = getattr(settings, "FERRY", {}).get("PDF_WORKERS")
    if configured is not None:
        return int(configured)
    return max(1, min(2, os.cpu_count() or 1))


class RenderPool:
    """A few long-lived ``pdf_worker.py`` processes, each fed one chunk at a time by a thread."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ferry-pdf")
        self._local = threading.local()
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def _proc(self) -> subprocess.Popen:
        proc = getattr(self._local, "proc", None)
        if proc is None or proc.poll() is not None:
            # Run by path, not as a module: the worker needs neither Django nor Ferry.
            proc = subprocess.Popen(
                [sys.executable, pdf_worker.__file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
            with self._lock:
                self._procs.append(proc)
            self._local.proc = proc
        return proc

    def _render(self, html_path: str, pdf_path: str) -> None:
        proc = self._proc()
        proc.stdin.write(f"{html_path}\t{pdf_path}\n")
        proc.stdin.flush()
        reply = proc.stdout.readline().strip()
        if reply != "ok":
            raise PdfRenderError(reply or f"worker exited with {proc.poll()}")

    def submit(self, html_path: str, pdf_path: str) -> Future:
        return self._executor.submit(self._render, html_path, pdf_path)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        for proc in self._procs:
            try:
                proc.stdin.close()
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()


class PdfRowLimit(LimitExceeded):
    def __init__(self, limit: int):
        super().__init__(
            f"A PDF holds at most {limit:,} rows and this export has more. "
            "Narrow the filters, or export to Excel (XLSX) or CSV, which have no such limit."
        )


class PdfWriterTable(Writer):
    extension = "pdf"
    content_type = "application/pdf"
    template_name = "reports/pdf/base_table.html"

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self.chunk_rows = int(self.options.get("chunk_rows") or DEFAULT_CHUNK_ROWS)
        self.max_rows = int(self.options.get("max_rows") or settings.FERRY["PDF_MAX_ROWS"])
        self.template_name = self.options.get("template") or self.template_name
        self._tmp = Path(tempfile.mkdtemp(prefix="ferry-pdf-"))
        self._chunks: list[Path] = []
        self.workers = int(self.options.get("workers") or default_workers())
        self._pool: RenderPool | None = None
        self._pending: list[Future] = []
        self._blocks: list[dict[str, Any]] = []
        self._rows_in_chunk = 0
        self._table: dict[str, Any] | None = None
        self._section_rows = 0
        self._num: list[bool] = []
        self._types: list[str] = []
        # Numbers, money and dates as the organization writes them (options "locale" and
        # "currency"; Ferry's own defaults without them).
        self._org = SimpleNamespace(
            locale=self.options.get("locale"), currency=self.options.get("currency")
        )
        self.currency = self.options.get("currency") or ""

    # --- blocks ---------------------------------------------------------------------------
    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        self._blocks.append(
            {
                "kind": "summary",
                "title": title,
                # Key figures are mostly amounts: decimals print with two places; pass a
                # string for anything else (e.g. "23.4 %").
                "items": [(str(k), self._display(v, FieldType.MONEY)) for k, v in items],
            }
        )

    def _section(self, title: str, columns: list[Column]) -> None:
        self._finish_table()
        self._num = [c.type in NUMERIC_TYPES for c in columns]
        self._types = [c.type for c in columns]
        self._nowrap = [c.nowrap for c in columns]
        self._starts = [
            '<td class="num">' if n else ('<td class="code">' if c.nowrap else "<td>")
            for n, c in zip(self._num, columns, strict=True)
        ]
        # The table's totals: amounts summed as the rows go by, printed under its last row.
        self._summed = [i for i, c in enumerate(columns) if c.summed]
        self._sums = {i: Decimal(0) for i in self._summed}
        self._section_rows = 0
        self._widths = self._column_widths(columns)
        self._lengths = [len(c.label) for c in columns]
        self._landscape = len(columns) > WIDE_COLUMNS or sum(self._estimates) > WIDE_CHARS
        self._open_table(continued=False)

    def _column_widths(self, columns: list[Column]) -> list[float]:
        # A share of the page per column from its label and type: with a fixed table layout
        # WeasyPrint does not measure every cell of a long table to size the columns.
        typical = {
            "date": 10,
            "datetime": 16,
            "boolean": 5,
            "integer": 8,
            "decimal": 10,
            "money": 12,
            "email": 24,
            "choice": 10,
            "reference": 16,
        }
        self._estimates = [max(len(c.label), typical.get(c.type, 14)) for c in columns]
        total = sum(self._estimates) or 1
        return [round(100 * e / total, 2) for e in self._estimates]

    def _widths_from_sample(self) -> None:
        """Share the page by the longest text of each column in its first rows (capped, so
        one long note does not squeeze the rest; longer text wraps)."""
        # A code keeps its whole length (it never wraps); other columns give way.
        estimates = [
            (min(max(n, 4), 24) if nowrap else min(max(n, 4), 36)) + 2
            for n, nowrap in zip(self._lengths, self._nowrap, strict=True)
        ]
        total = sum(estimates)
        self._widths = [round(100 * e / total, 2) for e in estimates]
        for block in self._blocks:
            if block.get("kind") == "table" and block["title"] == self.section_title:
                for column, width in zip(block["columns"], self._widths, strict=True):
                    column["width"] = width

    def _open_table(self, *, continued: bool) -> None:
        self._table = {
            "kind": "table",
            "title": self.section_title,
            "continued": continued,
            "landscape": self._landscape,
            "columns": [
                {"label": self._label(c), "num": n, "width": w}
                for c, n, w in zip(self.columns, self._num, self._widths, strict=True)
            ],
            "rows": [],
            "last": False,
        }
        self._blocks.append(self._table)

    def _label(self, column: Column) -> str:
        if column.type == FieldType.MONEY and self.currency and column.total is not False:
            return f"{column.label} ({self.currency})"
        return column.label

    def _display(self, value: Any, type: str) -> str:
        """A cell as the organization writes it: 1.234,50 (de-DE), 31/01/2026 (en-GB)."""
        if value is None or value == "" or isinstance(value, bool) or not self._org.locale:
            return display_value(value, type)
        if isinstance(value, dt.datetime):
            return f"{date_format(naive_local(value), organization=self._org)} {naive_local(value):%H:%M}"
        if isinstance(value, dt.date):
            return date_format(value, organization=self._org)
        if isinstance(value, int):
            if type not in NUMERIC_TYPES and type != FieldType.MONEY:
                return display_value(value, type)  # an id or a code made of digits
            return quantity_format(value, organization=self._org)
        if isinstance(value, Decimal | float):
            if type == FieldType.MONEY:
                return number_format(Decimal(str(value)), organization=self._org)
            return quantity_format(Decimal(str(value)), organization=self._org)
        return display_value(value, type)

    def _finish_table(self) -> None:
        if self._table is not None:
            self._table["last"] = True
            self._table["total_rows"] = self._section_rows
            if self._summed and self._section_rows:
                cells = [""] * len(self._types)
                for i in self._summed:
                    cells[i] = self._display(self._sums[i], self._types[i])
                label_at = next((i for i in range(len(cells)) if i not in self._summed), None)
                if label_at is not None:
                    cells[label_at] = "Total"
                self._table["totals_html"] = mark_safe(  # noqa: S308  escaped here
                    '<tr class="total">'
                    + "".join(
                        f"{start}{escape(text)}</td>"
                        for text, start in zip(cells, self._starts, strict=True)
                    )
                    + "</tr>"
                )
            self._table = None

    def row(self, values: list) -> None:
        if self.rows_written >= self.max_rows:
            raise PdfRowLimit(self.max_rows)
        # Each row becomes its HTML here (escaped) instead of in a template loop: it keeps the
        # parent's CPU free for the render workers (Django's loop cost ~0.4 ms a row).
        display = self._display
        texts = [display(v, t) for v, t in zip(values, self._types, strict=True)]
        for i in self._summed:
            value = values[i]
            if value is not None and not isinstance(value, bool | str):
                self._sums[i] += value if isinstance(value, Decimal) else Decimal(str(value))
        if self._section_rows < WIDTH_SAMPLE_ROWS:
            # Column widths follow the header and the first rows (see _widths_from_sample).
            self._lengths = [max(n, len(t)) for n, t in zip(self._lengths, texts, strict=True)]
        cells = "".join(
            f"{start}{escape(text)}</td>" for text, start in zip(texts, self._starts, strict=True)
        )
        if self._rows_in_chunk >= self.chunk_rows:
            # Rendered when the next row arrives, so the last chunk always holds a table's end.
            self._render_chunk()
        if self._table is None:
            # Opened lazily, so a chunk ending exactly at the section's end leaves no empty table.
            self._open_table(continued=True)
        tr = '<tr class="alt">' if self._section_rows % 2 else "<tr>"
        self._table["rows"].append(f"{tr}{cells}</tr>")
        self._section_rows += 1
        self.rows_written += 1
        self._rows_in_chunk += 1

    # --- rendering ------------------------------------------------------------------------
    def _render_chunk(self, *, last: bool = False) -> None:
        if not self._blocks:
            return
        if self._table is not None and self._section_rows:
            self._widths_from_sample()
        for block in self._blocks:
            if block.get("kind") == "table":
                block["rows_html"] = mark_safe("\n".join(block["rows"]))  # noqa: S308  escaped in row()
        html = render_to_string(
            self.template_name,
            {
                "title": self.title,
                "organization_name": self.organization_name,
                "currency": self.currency,
                "filters_text": self.filters_text,
                "generated_at": self.generated_at,
                "first": not self._chunks,
                "blocks": self._blocks,
                # One orientation per chunk document: landscape when any of its tables is wide.
                "landscape": any(b.get("landscape") for b in self._blocks),
            },
        )
        out = self._tmp / f"chunk-{len(self._chunks):05d}.pdf"
        self._chunks.append(out)
        self._blocks = []
        self._table = None
        self._rows_in_chunk = 0
        if self.workers <= 1 or (last and self._pool is None):
            # A one-chunk document renders here: starting a worker would cost more than it saves.
            pdf_worker.render_html(html, str(out))
            return
        if self._pool is None:
            self._pool = RenderPool(self.workers)
        html_path = out.with_suffix(".html")
        html_path.write_text(html, encoding="utf-8")
        self._pending.append(self._pool.submit(str(html_path), str(out)))
        # Stay at most one chunk ahead of the workers: bounded disk use, and the job's progress
        # follows the rendering instead of racing to 100 % and waiting there.
        while len([f for f in self._pending if not f.done()]) > self.workers:
            next(f for f in self._pending if not f.done()).result()
        self._pending = [f for f in self._pending if not f.done() or f.exception()]
        for future in self._pending:
            if future.done():
                future.result()  # raises the worker's error now rather than at the end

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _close(self) -> None:
        try:
            self._finish_table()
            if self._blocks or not self._chunks:
                self._render_chunk(last=True)
            for future in self._pending:
                future.result()
            self._shutdown()
            self._join()
        finally:
            self._shutdown()
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _abort(self) -> None:
        self._shutdown()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _join(self) -> None:
        writer = PdfWriter()
        for chunk in self._chunks:
            writer.append(PdfReader(chunk))
        # One numbering for the whole table: a single section as long as the document.
        pdf_worker.stamp_page_numbers(
            writer,
            [len(writer.pages)],
            right=12 * 72 / 25.4,  # the 12 mm page margin
            baseline=PAGE_NUMBER_BASELINE,
            size=PAGE_NUMBER_SIZE,
        )
        writer.add_metadata({"/Title": self.title, "/Producer": "Ferry"})
        with open(self.path, "wb") as fh:
            writer.write(fh)
