"""Render one HTML file to PDF with WeasyPrint: a function, and a worker process around it.

Kept free of Django and of Ferry imports so it can run as a plain script
(``python pdf_worker.py``): the PDF writer keeps a few of these processes busy with chunks, which
spreads WeasyPrint's CPU-bound layout over the machine's cores while each process only ever
holds one chunk in memory.

Protocol: one line per job on stdin, ``<html path>\\t<pdf path>`` (``\\tsections`` or
``\\tsections split`` appended for a document made of sections, see ``render_sections``); the reply
line is ``ok`` or ``error <message>``.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys

# WeasyPrint matches every element against its full HTML5 user-agent stylesheet; the print
# templates use a handful of elements, and this short sheet cuts layout time by about a quarter
# on long tables (1,000 rows: 6.2-7.3 s down to 4.3-4.9 s).
PRINT_UA_CSS = """
html, body, div, section, header, footer, h1, h2, h3, p, ul, ol, dl, dt, dd, figure { display: block }
li { display: list-item }
head, style, title, script, link, meta { display: none }
table { display: table; box-sizing: border-box; border-spacing: 0 }
caption { display: table-caption }
thead { display: table-header-group } tbody { display: table-row-group }
tfoot { display: table-footer-group } tr { display: table-row }
td, th { display: table-cell } colgroup { display: table-column-group } col { display: table-column }
h1, h2, h3, th, strong, b { font-weight: bold } em, i { font-style: italic }
span, a, small, abbr { display: inline } small { font-size: smaller }
"""

_HTML_CLASS = None
_PLACE = re.compile(r'data-page-number="([0-9. ]+)"')


def _html_class():
    global _HTML_CLASS
    if _HTML_CLASS is None:
        from weasyprint import CSS, HTML  # slow to import; only PDF needs it

        class PrintHTML(HTML):
            # A private WeasyPrint hook: if a release drops it, the default sheet applies.
            def _ua_stylesheets(self, forms=False):
                return [CSS(string=PRINT_UA_CSS)]

        _HTML_CLASS = PrintHTML
    return _HTML_CLASS


def render_html(html: str, pdf_path: str) -> None:
    _html_class()(string=html).write_pdf(pdf_path)


def render_file(html_path: str, pdf_path: str) -> None:
    with open(html_path, encoding="utf-8") as fh:
        html = fh.read()
    render_html(html, pdf_path)


# A document made of sections (many orders' documents in one WeasyPrint layout) marks where each
# starts with an element whose id is SECTION_ID_PREFIX + its index.
SECTION_ID_PREFIX = "ferry-section-"
PAGE_NUMBER_FONT = "/FerryPageNo"


def _section_starts(document) -> list[int]:
    """The index of the page each section starts on, in section order (from the anchors)."""
    first_page: dict[int, int] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith(SECTION_ID_PREFIX):
                first_page.setdefault(int(anchor[len(SECTION_ID_PREFIX) :]), index)
    return [first_page[n] for n in sorted(first_page)] or [0]


def _stream(data: bytes):
    from pypdf.generic import DecodedStreamObject

    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def stamp_page_numbers(writer, counts: list[int], *, right: float, baseline: float, size: float):
    """Write "Page n of N" at the bottom right of every page, counted within each section
    (``counts``: pages per section, in order): the totals exist only after layout, and a
    second layout pass would double the cost. Helvetica is a standard PDF font (nothing to
    embed); ``right`` and ``baseline`` are points from the page's right and bottom edges."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    save = writer._add_object(_stream(b"q\n"))
    restore = writer._add_object(_stream(b"Q\n"))
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    numbers = [(n, total) for total in counts for n in range(1, total + 1)]
    for page, (number, total) in zip(writer.pages, numbers, strict=True):
        text = f"Page {number} of {total}"
        box = page.mediabox
        x = float(box.right) - right - _text_width(text, size)
        y = float(box.bottom) + baseline
        stamp = writer._add_object(
            _stream(
                f"BT {PAGE_NUMBER_FONT} {size} Tf 0.4 0.44 0.52 rg "
                f"{x:.2f} {y:.2f} Td ({text}) Tj ET\n".encode("ascii")
            )
        )
        contents = page.get(NameObject("/Contents"))
        parts = (
            list(contents.get_object()) if isinstance(contents.get_object(), list) else [contents]
        )
        page[NameObject("/Contents")] = ArrayObject([save, *parts, restore, stamp])
        resources = page[NameObject("/Resources")].get_object()
        fonts = resources.get(NameObject("/Font"))
        if fonts is None:
            resources[NameObject("/Font")] = DictionaryObject({NameObject(PAGE_NUMBER_FONT): font})
        else:
            fonts.get_object()[NameObject(PAGE_NUMBER_FONT)] = font


# Helvetica advance widths (1/1000 em) for the characters of "Page n of N", to right-align it.
_HELVETICA = {"P": 667, "a": 556, "g": 556, "e": 556, " ": 278, "o": 556, "f": 278}
_HELVETICA.update({d: 556 for d in "0123456789"})


def _text_width(text: str, size: float) -> float:
    return sum(_HELVETICA.get(ch, 556) for ch in text) * size / 1000


def _page_number_place(html: str) -> tuple[float, float, float]:
    """Where a sectioned document wants its page numbers: ``data-page-number="right baseline
    size"`` (points) on its <html> element, as its template declares next to its @page rule."""
    match = _PLACE.search(html[:2000])
    if not match:
        return 45.35, 50.4, 7.0
    right, baseline, size = (float(v) for v in match.group(1).split())
    return right, baseline, size


def render_sections(html: str, pdf_path: str, *, split: bool = False) -> list[int]:
    """Lay out a document made of sections once; number pages per section; write it to
    ``pdf_path``, or with ``split`` one file per section (``<pdf_path>.<index>.pdf``) and no
    whole. Returns the page count of each section (also written to ``<pdf_path>.json``)."""
    from pypdf import PdfReader, PdfWriter

    document = _html_class()(string=html).render()
    starts = _section_starts(document)
    ends = [*starts[1:], len(document.pages)]
    counts = [end - start for start, end in zip(starts, ends, strict=True)]
    right, baseline, size = _page_number_place(html)
    whole = PdfWriter(clone_from=PdfReader(io.BytesIO(document.write_pdf())))
    stamp_page_numbers(whole, counts, right=right, baseline=baseline, size=size)
    if split:
        # Written back and read again so each part copies only what its pages use.
        buffer = io.BytesIO()
        whole.write(buffer)
        reader = PdfReader(buffer)
        for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
            part = PdfWriter()
            for page in reader.pages[start:end]:
                part.add_page(page)
            part.add_metadata(_metadata(reader))
            with open(f"{pdf_path}.{index}.pdf", "wb") as fh:
                part.write(fh)
    else:
        with open(pdf_path, "wb") as fh:
            whole.write(fh)
    with open(f"{pdf_path}.json", "w", encoding="utf-8") as fh:
        json.dump(counts, fh)
    return counts


def _metadata(reader) -> dict:
    meta = reader.metadata or {}
    return {k: str(v) for k, v in meta.items() if k in ("/Title", "/Producer", "/Creator")}


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    _html_class()
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        html_path, pdf_path, *flags = line.split("\t")
        words = " ".join(flags).split()
        try:
            if "sections" in words:
                with open(html_path, encoding="utf-8") as fh:
                    render_sections(fh.read(), pdf_path, split="split" in words)
            else:
                render_file(html_path, pdf_path)
        except Exception as exc:  # noqa: BLE001  reported to the parent, which fails the export
            reply = "error " + f"{type(exc).__name__}: {exc}".replace("\n", " ")
        else:
            reply = "ok"
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
