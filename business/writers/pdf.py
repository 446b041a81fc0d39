"""Table PDFs (resource exports and the ready-made reports) drawn with ReportLab.

Why not WeasyPrint, which Ferry keeps for its designed documents (invoices, delivery notes):
WeasyPrint builds, lays out and paints a box for every table cell in Python, ~0.6-0.8 ms of CPU
a cell whatever the CSS (fixed layout, no backgrounds, nowrap, no kerning, a minimal user-agent
sheet: each within 10 %), so 10,000 rows of 10 columns cost 65 s of CPU on a quiet machine,
~25x ReportLab (bench/bench_pdf.py). A table is a simple grid: this writer measures each cell
with the font's metrics, wraps it, and draws it straight onto the page, streaming row by row.

The look is the print design the WeasyPrint template had (templates/reports/pdf/ before this
change): a title block, key figures four to a row, tables with a dark header row repeated on
every page, banded rows, a totals row, the row count, a footer with the organization, title and
time, and "Page n of N" (each page draws a form that is only defined once the total is known).
Wide tables print on landscape pages. Liberation Sans (metric twin of Arial) or DejaVu Sans
is embedded (subset), so any language's text prints; Helvetica only when neither is installed.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from accounts.formats import date_format, number_format, quantity_format
from business.resources import FieldType
from business.writers import pdf_worker
from business.writers.base import NUMERIC_TYPES, Column, Writer, display_value, naive_local
from jobs.errors import FerryError, LimitExceeded

# More columns than this (or more estimated text than WIDE_CHARS) prints on landscape pages.
WIDE_COLUMNS = 6
WIDE_CHARS = 110
# Rows of each table looked at to share the page width between its columns.
WIDTH_SAMPLE_ROWS = 50
# A text column is sized to at most this (points; ~36 characters), longer text wraps; and no
# column is narrower than MIN_TEXT.
TEXT_CAP = 150.0
MIN_TEXT = 20.0

# The print design, in points.
MARGIN_TOP, MARGIN_RIGHT, MARGIN_BOTTOM, MARGIN_LEFT = 14 * mm, 12 * mm, 16 * mm, 12 * mm
FOOTER_BASELINE = 39.0  # above the page's bottom edge, in the bottom margin
FONT_SIZE, LEADING = 8.0, 10.4
SMALL = 7.0
BLUE = HexColor("#1f4e79")
INK = HexColor("#1d2939")
MUTED = HexColor("#667085")
GREY = HexColor("#475467")
BAND = HexColor("#eef2f7")
FIGURE_BG = HexColor("#f8fafc")
FIGURE_LINE = HexColor("#d0d5dd")
BULLET = HexColor("#98a2b3")
CELL_PAD_Y, HEAD_PAD_Y = 2.0, 3.0
# Every row leaves room under it for the row count, so the count never sits alone on a page.
COUNT_HEIGHT = 3 + SMALL * 1.3
# Ready-made reports: wider cell padding and a smaller header (their tables are wide).
STYLES = {
    "table": {"pad_x": 4.0, "head_size": 8.0},
    "report": {"pad_x": 5.0, "head_size": 7.5},
}
FONT_FILES = (
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """The regular and bold font names, registered with ReportLab once per process."""
    for regular, bold in FONT_FILES:
        if os.path.exists(regular) and os.path.exists(bold):
            pdfmetrics.registerFont(TTFont("Ferry", regular))
            pdfmetrics.registerFont(TTFont("Ferry-Bold", bold))
            return "Ferry", "Ferry-Bold"
    return "Helvetica", "Helvetica-Bold"


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width``: broken at spaces, and inside a word only when
    the word alone is wider (an e-mail address in a narrow column): after "@", ".", "-", "/"
    or "_" when one is on the line, anywhere otherwise."""
    measure = pdfmetrics.stringWidth
    if "\n" not in text and measure(text, font, size) <= width:
        return [text]
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if measure(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            if measure(word, font, size) > width:
                line = _break_word(word, font, size, width, lines)
        lines.append(line)
    return lines


BREAK_AFTER = frozenset("@.-/_")


def _break_word(word: str, font: str, size: float, width: float, lines: list[str]) -> str:
    """Appends to ``lines`` the full lines of a word wider than ``width``; returns the rest.
    One measure per character, however long the word."""
    measure = pdfmetrics.stringWidth
    advances: list[float] = []
    line, used, cut = "", 0.0, 0  # cut: where the line may break (after a separator)
    for char in word:
        advance = measure(char, font, size)
        if line and used + advance > width:
            if 0 < cut < len(line):
                lines.append(line[:cut])
                line, advances = line[cut:], advances[cut:]
                used = sum(advances)
            if line and used + advance > width:
                lines.append(line)
                line, advances, used = "", [], 0.0
            cut = max((i + 1 for i, ch in enumerate(line) if ch in BREAK_AFTER), default=0)
        line += char
        advances.append(advance)
        used += advance
        if char in BREAK_AFTER:
            cut = len(line)
    return line


def _two_lines(label: str, font: str, size: float) -> float:
    """The width a header needs on at most two lines broken at a space (its longest word if
    that is wider): "Available credit (GBP)" -> "Available credit" / "(GBP)"."""
    measure = pdfmetrics.stringWidth
    words = label.split(" ")
    best = measure(label, font, size)
    for i in range(1, len(words)):
        best = min(
            best,
            max(measure(" ".join(words[:i]), font, size), measure(" ".join(words[i:]), font, size)),
        )
    return max([best] + [measure(word, font, size) for word in words])


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

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self.max_rows = int(self.options.get("max_rows") or settings.FERRY["PDF_MAX_ROWS"])
        self.style = STYLES[self.options.get("pdf_style") or "table"]
        self.font, self.bold = fonts()
        # Numbers, money and dates as the organization writes them (options "locale" and
        # "currency"; Ferry's own defaults without them).
        self._org = SimpleNamespace(
            locale=self.options.get("locale"), currency=self.options.get("currency")
        )
        self.currency = self.options.get("currency") or ""
        # "Amounts in GBP" under the title only when the document shows amounts: a money
        # column in the first table, or key figures with decimals (both known by the first page).
        self._amounts = False
        self._canvas: Canvas | None = None
        self._pages = 0
        self._page_widths: list[float] = []
        self._blocks = 0  # key-figure blocks and tables drawn
        self._landscape = False
        self._y = 0.0
        self._page_has_table = False
        # Key figures wait for the first table: it decides the first page's orientation.
        self._waiting: list[tuple[str, list[tuple[str, str]]]] = []
        self._table: dict[str, Any] | None = None

    # --- values ---------------------------------------------------------------------------
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

    # --- pages ----------------------------------------------------------------------------
    @property
    def _size(self) -> tuple[float, float]:
        return landscape(A4) if self._landscape else A4

    @property
    def _width(self) -> float:
        return self._size[0] - MARGIN_LEFT - MARGIN_RIGHT

    def _new_page(self, wide: bool) -> None:
        if self._canvas is None:
            self._canvas = Canvas(str(self.path), pageCompression=1)
            self._canvas.setTitle(self.title)
            self._canvas.setProducer("Ferry")
        else:
            self._end_page()
        self._landscape = wide
        self._canvas.setPageSize(self._size)
        self._pages += 1
        self._page_widths.append(self._size[0])
        self._y = self._size[1] - MARGIN_TOP
        self._page_has_table = False
        if self._pages == 1:
            self._draw_head()
        for title, items in self._waiting:
            self._draw_summary(title, items)
        self._waiting = []

    def _end_page(self) -> None:
        c = self._canvas
        footer = " · ".join(
            part
            for part in (self.organization_name, self.title, f"{self.generated_at:%Y-%m-%d %H:%M}")
            if part
        )
        c.setFont(self.font, SMALL)
        c.setFillColor(MUTED)
        c.drawString(MARGIN_LEFT, FOOTER_BASELINE, footer)
        # "Page n of N" is a form defined at the end, when N is known.
        c.doForm(f"page{self._pages}")
        c.showPage()

    def _room(self, height: float) -> bool:
        return self._y - height >= MARGIN_BOTTOM

    def _text(self, x, y, text, *, font=None, size=FONT_SIZE, color=INK, right=False) -> None:
        c = self._canvas
        c.setFont(font or self.font, size)
        c.setFillColor(color)
        (c.drawRightString if right else c.drawString)(x, y, text)

    def _draw_head(self) -> None:
        x, width = MARGIN_LEFT, self._width
        for line in wrap(self.title, self.bold, 15, width):
            self._y -= 15 * 1.2
            self._text(x, self._y + 3.5, line, font=self.bold, size=15, color=BLUE)
        self._y -= 2
        meta = [self.organization_name] if self.organization_name else []
        meta.append(f"Generated {self.generated_at:%Y-%m-%d %H:%M}")
        if self.currency and self._amounts:
            meta.append(f"Amounts in {self.currency}")
        for line in wrap(" · ".join(meta), self.font, FONT_SIZE, width):
            self._y -= LEADING
            self._text(x, self._y + 2.5, line, color=GREY)
        if self.filters_text:
            self._y -= LEADING + 3
            cursor = x
            for item in self.filters_text:
                item_width = pdfmetrics.stringWidth(f"▸ {item}", self.font, FONT_SIZE)
                if cursor > x and cursor + item_width > x + width:
                    self._y -= LEADING
                    cursor = x
                self._text(cursor, self._y + 2.5, "▸", color=BULLET)
                self._text(
                    cursor + pdfmetrics.stringWidth("▸ ", self.font, FONT_SIZE),
                    self._y + 2.5,
                    item,
                    color=GREY,
                )
                cursor += item_width + 10
        self._y -= 4
        c = self._canvas
        c.setStrokeColor(BLUE)
        c.setLineWidth(1.5)
        c.line(x, self._y, x + width, self._y)
        self._y -= 8

    # --- key figures ----------------------------------------------------------------------
    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        # Key figures are mostly amounts: decimals print with two places; pass a string for
        # anything else (e.g. "23.4 %").
        texts = [(str(k), self._display(v, FieldType.MONEY)) for k, v in items]
        self._amounts |= any(isinstance(v, Decimal | float) for _, v in items)
        if self._canvas is None:
            self._waiting.append((title, texts))
        else:
            self._draw_summary(title, texts)

    def _draw_summary(self, title: str, items: list[tuple[str, str]]) -> None:
        self._blocks += 1
        self._draw_title(title, 0)
        gap = self._width * 0.01
        box = (self._width - 3 * gap) / 4
        inner = box - 2.5 - 6 - 6
        for start in range(0, len(items), 4):
            cells = [
                (wrap(label, self.font, SMALL, inner), wrap(value, self.bold, 11, inner))
                for label, value in items[start : start + 4]
            ]
            height = 8 + max(len(lab) * SMALL * 1.3 + 1 + len(val) * 11 * 1.3 for lab, val in cells)
            if not self._room(height):
                self._new_page(self._landscape)
            c = self._canvas
            top = self._y
            for i, (labels, values) in enumerate(cells):
                left = MARGIN_LEFT + i * (box + gap)
                c.setFillColor(FIGURE_BG)
                c.setStrokeColor(FIGURE_LINE)
                c.setLineWidth(0.5)
                c.rect(left, top - height, box, height, stroke=1, fill=1)
                c.setFillColor(BLUE)
                c.rect(left, top - height, 2.5, height, stroke=0, fill=1)
                y = top - 4
                for line in labels:
                    y -= SMALL * 1.3
                    self._text(left + 8.5, y + 2, line, size=SMALL, color=GREY)
                y -= 1
                for line in values:
                    y -= 11 * 1.3
                    self._text(left + 8.5, y + 3.3, line, font=self.bold, size=11)
            self._y = top - height - 5

    def _draw_title(self, title: str, needs: float) -> None:
        """A table's or block's title, on a new page when it and ``needs`` do not fit."""
        height = 10 + 10.5 * 1.3 + 4
        if not self._room(height + needs):
            self._new_page(self._landscape)
        self._y -= 10 + 10.5 * 1.3
        self._text(MARGIN_LEFT, self._y + 3, title, font=self.bold, size=10.5, color=BLUE)
        self._y -= 4

    # --- tables ---------------------------------------------------------------------------
    def _section(self, title: str, columns: list[Column]) -> None:
        self._finish_table()
        num = [c.type in NUMERIC_TYPES for c in columns]
        self._amounts |= any(c.type == FieldType.MONEY for c in columns)
        estimates = self._estimates(columns)
        wide = len(columns) > WIDE_COLUMNS or sum(estimates) > WIDE_CHARS
        self._table = {
            "title": title,
            "columns": columns,
            "labels": [self._label(c) for c in columns],
            "num": num,
            "types": [c.type for c in columns],
            "nowrap": [c.nowrap for c in columns],
            "wide": wide,
            # The first rows wait until they show how wide each column's text is.
            "sample": [],
            "widths": None,
            "rows": 0,
            "summed": [i for i, c in enumerate(columns) if c.summed],
            "sums": {i: Decimal(0) for i, c in enumerate(columns) if c.summed},
        }

    @staticmethod
    def _estimates(columns: list[Column]) -> list[int]:
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
        return [max(len(c.label), typical.get(c.type, 14)) for c in columns]

    def _start_table(self) -> None:
        """Size the columns from what they hold (see _column_widths), then print the sample."""
        t = self._table
        if self._canvas is None or self._landscape != t["wide"]:
            self._new_page(t["wide"])
        pad = self.style["pad_x"]
        n = len(t["num"])
        # A right-aligned number followed by left-aligned text gets twice the gap, so "3" and
        # "29/11/2026" in neighbouring columns do not read as one value.
        t["left"] = [pad] * n
        t["right"] = [
            2 * pad if num and i + 1 < n and not t["num"][i + 1] else pad
            for i, num in enumerate(t["num"])
        ]
        t["widths"] = self._column_widths()
        t["rooms"] = [
            w - left - right
            for w, left, right in zip(t["widths"], t["left"], t["right"], strict=True)
        ]
        head_size = self.style["head_size"]
        t["head"] = [
            wrap(label, self.bold, head_size, w - left - right)
            for label, w, left, right in zip(
                t["labels"], t["widths"], t["left"], t["right"], strict=True
            )
        ]
        t["head_height"] = max(len(h) for h in t["head"]) * head_size * 1.3 + 2 * HEAD_PAD_Y
        first = self._height(t["sample"][0]) if t["sample"] else 24
        # A resource export's one table is named like the document: no second title.
        self._blocks += 1
        if self._blocks > 1 or t["title"] != self.title:
            self._draw_title(t["title"], t["head_height"] + first)
        elif not self._room(t["head_height"] + first):
            self._new_page(t["wide"])
        self._draw_header()
        sample, t["sample"] = t["sample"], []
        if not sample:
            self._draw_empty()
        for index, texts in enumerate(sample):
            self._draw_row(texts, alt=index % 2 == 1)

    def _column_widths(self) -> list[float]:
        """Each column as wide as its widest value in the first rows (measured with the font),
        text capped at TEXT_CAP so one long note does not squeeze the rest (it wraps). Headers
        never set a column's width beyond their longest word or a balanced two-line break, so
        every header longer than its column wraps the same way; when all headers fit on one
        line, they all get one and every column shares the room left over; otherwise only text
        columns take it (a number's header stays wrapped like its neighbours'). Codes and
        numbers keep their whole width; text columns give way when the page is too narrow. A value wider than its
        column (a longer one after the first rows) wraps inside it: cells never overlap."""
        t = self._table
        measure = pdfmetrics.stringWidth
        font, bold, head_size = self.font, self.bold, self.style["head_size"]
        page = self._width
        insets = [left + right for left, right in zip(t["left"], t["right"], strict=True)]
        fixed = [num or nowrap for num, nowrap in zip(t["num"], t["nowrap"], strict=True)]
        natural = [0.0] * len(insets)
        for texts in t["sample"]:
            for i, text in enumerate(texts):
                if text:
                    natural[i] = max(natural[i], measure(text, font, FONT_SIZE))
        # A totals row prints in bold and sums many rows: room for three more digits.
        for i in t["summed"]:
            natural[i] = natural[i] * measure("0", bold, FONT_SIZE) / measure(
                "0", font, FONT_SIZE
            ) + measure("0,000", bold, FONT_SIZE)
        heads = [_two_lines(label, bold, head_size) for label in t["labels"]]
        one_line = [measure(label, bold, head_size) for label in t["labels"]]
        desired = [
            max(value if is_fixed else min(value, TEXT_CAP), head, MIN_TEXT) + inset
            for value, head, inset, is_fixed in zip(natural, heads, insets, fixed, strict=True)
        ]
        everything = list(range(len(desired)))
        flexible = [i for i, is_fixed in enumerate(fixed) if not is_fixed] or everything
        unwrapped = [max(d, h + i) for d, h, i in zip(desired, one_line, insets, strict=True)]
        if sum(unwrapped) <= page:
            # Every header on one line; the room left is shared by all columns.
            desired, flexible = unwrapped, everything
        spare = page - sum(desired)
        widths = list(desired)
        if spare >= 0:
            share = sum(desired[i] for i in flexible)
            for i in flexible:
                widths[i] += spare * desired[i] / share
            return widths
        # Too wide: text columns shrink towards their header's width, then everything scales.
        floors = [
            d if is_fixed else max(h, MIN_TEXT) + inset
            for d, h, inset, is_fixed in zip(desired, heads, insets, fixed, strict=True)
        ]
        give = sum(desired[i] - floors[i] for i in flexible)
        if give > 0 and -spare <= give:
            for i in flexible:
                widths[i] -= -spare * (desired[i] - floors[i]) / give
            return widths
        total = sum(floors)
        return [page * f / total for f in floors]

    def _height(self, texts: list[str]) -> float:
        lines = 1
        for text, room in zip(texts, self._table["rooms"], strict=True):
            if text:
                lines = max(lines, len(wrap(text, self.font, FONT_SIZE, room)))
        return lines * LEADING + 2 * CELL_PAD_Y

    def _draw_header(self) -> None:
        t = self._table
        c = self._canvas
        height = t["head_height"]
        c.setFillColor(BLUE)
        c.rect(MARGIN_LEFT, self._y - height, self._width, height, stroke=0, fill=1)
        head_size = self.style["head_size"]
        x = MARGIN_LEFT
        for lines, width, num, left, right in zip(
            t["head"], t["widths"], t["num"], t["left"], t["right"], strict=True
        ):
            # Labels sit at the bottom of the header row, as the tables they head.
            y = self._y - height + HEAD_PAD_Y + (len(lines) - 1) * head_size * 1.3 + 2.2
            for line in lines:
                if num:
                    self._text(
                        x + width - right,
                        y,
                        line,
                        font=self.bold,
                        size=head_size,
                        color=white,
                        right=True,
                    )
                else:
                    self._text(x + left, y, line, font=self.bold, size=head_size, color=white)
                y -= head_size * 1.3
            x += width
        self._y -= height
        self._page_has_table = True

    def _draw_row(self, texts: list[str], *, alt: bool, font: str | None = None) -> None:
        t = self._table
        font = font or self.font
        measure = pdfmetrics.stringWidth
        # Every cell is measured once; only a value wider than its column is wrapped.
        cells: list[list[tuple[str, float]]] = []
        for text, room in zip(texts, t["rooms"], strict=True):
            if not text:
                cells.append([])
                continue
            used = measure(text, font, FONT_SIZE)
            if used <= room and "\n" not in text:
                cells.append([(text, used)])
            else:
                cells.append(
                    [
                        (line, measure(line, font, FONT_SIZE))
                        for line in wrap(text, font, FONT_SIZE, room)
                    ]
                )
        height = max(len(lines) for lines in cells) * LEADING + 2 * CELL_PAD_Y
        if not self._room(height + COUNT_HEIGHT):
            self._new_page(self._landscape)
            self._draw_header()
        c = self._canvas
        top = self._y
        if alt:
            c.setFillColor(BAND)
            c.rect(MARGIN_LEFT, top - height, self._width, height, stroke=0, fill=1)
        # One text object for the whole row: a third less CPU than a drawString per cell.
        text = c.beginText()
        text.setFont(font, FONT_SIZE)
        text.setFillColor(INK)
        x = MARGIN_LEFT
        for lines, width, num, left, right in zip(
            cells, t["widths"], t["num"], t["left"], t["right"], strict=True
        ):
            y = top - CELL_PAD_Y - FONT_SIZE - 0.4
            for line, used in lines:
                if line:
                    if num:
                        text.setTextOrigin(x + width - right - used, y)
                    else:
                        text.setTextOrigin(x + left, y)
                    text.textOut(line)
                y -= LEADING
            x += width
        c.drawText(text)
        self._y = top - height

    def _draw_empty(self) -> None:
        height = LEADING + 16
        if not self._room(height):
            self._new_page(self._landscape)
            self._draw_header()
        self._y -= height
        self._text(
            MARGIN_LEFT
            + self._width / 2
            - pdfmetrics.stringWidth("No rows match.", self.font, FONT_SIZE) / 2,
            self._y + 10.4,
            "No rows match.",
            color=MUTED,
        )

    def _finish_table(self) -> None:
        t = self._table
        if t is None:
            return
        if t["widths"] is None:
            self._start_table()
        if t["summed"] and t["rows"]:
            cells = [""] * len(t["types"])
            for i in t["summed"]:
                cells[i] = self._display(t["sums"][i], t["types"][i])
            label_at = next((i for i in range(len(cells)) if i not in t["summed"]), None)
            if label_at is not None:
                cells[label_at] = "Total"
            self._draw_row(cells, alt=False, font=self.bold)
            c = self._canvas
            row_top = self._y + self._height(cells)
            c.setStrokeColor(BLUE)
            c.setLineWidth(1)
            c.line(MARGIN_LEFT, row_top, MARGIN_LEFT + self._width, row_top)
        count = f"{t['rows']:,} row{'' if t['rows'] == 1 else 's'}"
        if not self._room(COUNT_HEIGHT):
            self._new_page(self._landscape)
        self._y -= COUNT_HEIGHT
        self._text(
            MARGIN_LEFT + self._width, self._y + 2, count, size=SMALL, color=MUTED, right=True
        )
        self._y -= 4
        self._table = None

    def row(self, values: list) -> None:
        if self.rows_written >= self.max_rows:
            raise PdfRowLimit(self.max_rows)
        t = self._table
        display = self._display
        texts = [display(v, ty) for v, ty in zip(values, t["types"], strict=True)]
        for i in t["summed"]:
            value = values[i]
            if value is not None and not isinstance(value, bool | str):
                t["sums"][i] += value if isinstance(value, Decimal) else Decimal(str(value))
        if t["widths"] is None:
            # Column widths follow the header and the first rows (see _column_widths).
            t["sample"].append(texts)
            if len(t["sample"]) >= WIDTH_SAMPLE_ROWS:
                self._start_table()
        else:
            self._draw_row(texts, alt=t["rows"] % 2 == 1)
        t["rows"] += 1
        self.rows_written += 1

    # --- the file -------------------------------------------------------------------------
    def _close(self) -> None:
        try:
            self._finish_table()
            if self._canvas is None:
                self._new_page(False)
            self._end_page()
            c = self._canvas
            for number, width in enumerate(self._page_widths, 1):
                c.beginForm(f"page{number}")
                self._text(
                    width - MARGIN_RIGHT,
                    FOOTER_BASELINE,
                    f"Page {number} of {self._pages}",
                    size=SMALL,
                    color=MUTED,
                    right=True,
                )
                c.endForm()
            c.save()
        except BaseException:
            self._abort()
            raise

    def _abort(self) -> None:
        self._canvas = None
        self.path.unlink(missing_ok=True)
