"""PDF benchmark: a table of N contact-like rows (10 columns), Ferry's table writer (ReportLab,
business/writers/pdf.py) against WeasyPrint laying out the same table in the print CSS Ferry used
before (chunks of 500 rows, as the old writer did), each side in a fresh process.

    .venv/bin/python bench/bench_pdf.py                      # 10,000 rows, WeasyPrint on 1,000
    .venv/bin/python bench/bench_pdf.py --rows 10000 --weasy-rows 10000 --repeat 3

No database: the rows are generated (the same values bench_export.py seeds). Prints wall, CPU
(process and children), pages and CPU per 1,000 rows, medians of interleaved rounds; the
WeasyPrint side runs on fewer rows by default because it costs ~25x more (its CPU per row does
not depend on the row count at a fixed chunk size). Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["lead", "prospect", "customer"]
LABELS = [
    "Email",
    "First name",
    "Last name",
    "Account",
    "Phone",
    "Title",
    "Lifecycle stage",
    "Source",
    "Do not email",
    "Birth date",
]
# The print CSS of Ferry's WeasyPrint table template (templates/reports/pdf/base_table.css).
WEASY_CSS = """
@page { size: A4 landscape; margin: 14mm 12mm 16mm 12mm;
  @bottom-left { content: string(doc-footer); font: 7pt "Liberation Sans", sans-serif;
                 color: #667085; } }
html { font: 8pt/1.3 "Liberation Sans", "DejaVu Sans", sans-serif; color: #1d2939; }
body { margin: 0; string-set: doc-footer attr(data-footer); }
h1 { font-size: 15pt; margin: 0 0 2pt; color: #1f4e79; }
table { width: 100%; border-collapse: separate; border-spacing: 0; table-layout: fixed; }
thead { display: table-header-group; }
th { background: #1f4e79; color: #fff; font-weight: bold; text-align: left;
     padding: 3pt 4pt; border: 0.5pt solid #1f4e79; }
td { padding: 2pt 4pt; vertical-align: top; }
tr.alt { background: #eef2f7; }
"""


def contact(i: int) -> list:
    return [
        f"person{i}@bench.example",
        f"First{i % 997}",
        f"Last-name {i % 7919}",
        f"Account {i % 500:04d}" if i % 4 else None,
        f"+33 1 {i % 100:02d} {i % 1000:03d} {i % 10000:04d}",
        "Purchasing lead" if i % 3 else "",
        STAGES[i % 3],
        "Trade show" if i % 5 == 0 else "Web",
        i % 11 == 0,
        dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000),
    ]


def side_ferry(rows: int, out: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from business.resources import FieldType as T
    from business.writers import Column, writer_for

    types = [T.EMAIL, T.TEXT, T.TEXT, T.REFERENCE, T.TEXT, T.TEXT, T.CHOICE, T.TEXT]
    types += [T.BOOLEAN, T.DATE]
    columns = [
        Column(f"c{i}", label, t) for i, (label, t) in enumerate(zip(LABELS, types, strict=True))
    ]
    writer = writer_for("pdf")(out, title="Contacts", organization_name="Bench")
    writer.section("Contacts", columns)
    for i in range(rows):
        writer.row(contact(i))
    writer.close()


def side_weasyprint(rows: int, out: str) -> None:
    sys.path.insert(0, str(ROOT / "business" / "writers"))
    import pdf_worker  # Ferry's WeasyPrint set-up for documents (short user-agent sheet)
    from pypdf import PdfReader, PdfWriter

    head = "".join(f"<th>{escape(label)}</th>" for label in LABELS)
    parts = []
    for start in range(0, rows, 500):
        body = []
        for i in range(start, min(rows, start + 500)):
            cells = "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in contact(i))
            body.append(f"<tr{' class=alt' if i % 2 else ''}>{cells}</tr>")
        html = (
            f"<html><head><style>{WEASY_CSS}</style></head>"
            f'<body data-footer="Bench · Contacts"><h1>Contacts</h1><table>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></body></html>"
        )
        part = f"{out}.{start}.pdf"
        pdf_worker.render_html(html, part)
        parts.append(part)
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(part))
        os.unlink(part)
    with open(out, "wb") as fh:
        writer.write(fh)


def child(side: str, rows: int, out: str) -> None:
    started = time.perf_counter()
    {"ferry": side_ferry, "weasyprint": side_weasyprint}[side](rows, out)
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    from pypdf import PdfReader

    pages = len(PdfReader(out).pages)
    print(json.dumps({"wall": wall, "cpu": cpu, "pages": pages, "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--weasy-rows", type=int, default=1_000, help="0 skips WeasyPrint")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.out)
        return
    sides = {"ferry": args.rows, "weasyprint": args.weasy_rows}
    sides = {side: n for side, n in sides.items() if n}
    results: dict[str, list[dict]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="ferry-bench-pdf-") as tmp:
        for round_ in range(args.repeat):
            order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
            for side in order:
                argv = [sys.executable, __file__, "--child", side, "--rows", str(sides[side])]
                argv += ["--out", f"{tmp}/{side}.pdf"]
                done = subprocess.run(argv, capture_output=True, text=True, check=True)
                results[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
    load = os.getloadavg()[0]
    print(f"table PDF, 10 columns — medians of {args.repeat} round(s); load {load:.1f}")
    print(
        f"{'side':12s} {'rows':>7s} {'wall s':>8s} {'CPU s':>8s} {'pages':>6s} {'CPU s/1k rows':>14s}"
    )
    per_k = {}
    for side, runs in results.items():
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        per_k[side] = cpu / runs[0]["rows"] * 1000
        print(
            f"{side:12s} {runs[0]['rows']:>7,} {wall:>8.1f} {cpu:>8.1f} "
            f"{runs[0]['pages']:>6} {per_k[side]:>14.2f}"
        )
    if len(per_k) == 2:
        print(f"WeasyPrint / Ferry CPU per row: {per_k['weasyprint'] / per_k['ferry']:.1f}x")


if __name__ == "__main__":
    main()
