"""Render one HTML file to PDF with WeasyPrint: a function, and a worker process around it.

Kept free of Django and of Ferry imports so it can run as a plain script
(``python pdf_worker.py``): the PDF writer keeps a few of these processes busy with chunks, which
spreads WeasyPrint's CPU-bound layout over the machine's cores while each process only ever
holds one chunk in memory.

Protocol: one line per job on stdin, ``<html path>\\t<pdf path>``; the reply line is ``ok`` or
``error <message>``.
"""

from __future__ import annotations

import logging
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


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    _html_class()
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        html_path, _, pdf_path = line.partition("\t")
        try:
            render_file(html_path, pdf_path)
        except Exception as exc:  # noqa: BLE001  reported to the parent, which fails the export
            reply = "error " + f"{type(exc).__name__}: {exc}".replace("\n", " ")
        else:
            reply = "ok"
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
