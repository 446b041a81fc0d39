"""Export benchmark: Ferry's writers against what a user would pick instead, in the same run.

    .venv/bin/python bench/bench_export.py                       # 100k and 1M rows, PDF 10k
    .venv/bin/python bench/bench_export.py --sizes 200000 --formats xlsx --repeat 3
    .venv/bin/python bench/bench_export.py --sizes 0 --pdf-rows 10000 --sales-scale 10
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry .venv/bin/python bench/bench_export.py

Needs the ``bench`` extra (``pip install -e '.[bench]'``). Everything comes from the app's
settings: the database of DATABASE_URL (or the SQLite file under FERRY_VAR_DIR), migrated if
needed. The contacts are seeded once into organizations named ``bench-<rows>`` (10 default
export columns, an account referenced by name) and kept for the next run; ``--drop`` removes
them. ``--sales-scale N`` seeds the demo organization (``seed_demo --scale N``) and times the
sales report as a PDF.

The sides, each in a fresh process (its own peak RSS), interleaved round by round, medians:

- CSV: ``csv.writer`` fed by ``values_list(...).iterator()`` (the limit, Python's own text of
  each value), the same loop written by hand to give Ferry's bytes (``csv-writer-same``: choice
  labels, true/false, formula guard; the sha1 of both files is printed), Ferry, and
  django-import-export (a ModelResource's ``export()`` then ``Dataset.csv``).
- XLSX: XlsxWriter with ``constant_memory`` fed the same way (the limit), Ferry, and
  django-import-export's XLSX.
- JSON: ``json.dumps`` of a dict per row into one array (the limit), and Ferry.
- PDF: Ferry (WeasyPrint, its render workers' CPU included) and ReportLab's platypus tables in
  chunks of 500 rows (the alternative: not a Ferry dependency).

django-import-export runs up to ``--die-max`` rows (at 1M it takes over a minute and a GB).
Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import tempfile
import time

import measure

SIDES = {
    "csv": ["csv-writer", "csv-writer-same", "ferry-csv", "die-csv"],
    "xlsx": ["xlsxwriter", "ferry-xlsx", "die-xlsx"],
    "json": ["json-dumps", "ferry-json"],
}
LIMIT = {"csv": "csv-writer", "xlsx": "xlsxwriter", "json": "json-dumps"}
# Printed above each table, so the figures say what they compare. Every side reads the same
# 10 columns of the same rows (one query, the account's name through a join), in chunks of
# 2000 (a server-side cursor on PostgreSQL), and writes its file to disk; the time is from the
# first query to the file closed, in a process that has already loaded Django, the models and
# (Ferry's sides) the exporter registry.
SIDE_DOES = {
    "csv-writer": "values_list().iterator() -> csv.writer, values as Python prints them "
    "(True/False, choice codes, no formula guard): the limit",
    "csv-writer-same": "the same loop written by hand to give Ferry's bytes (choice labels, "
    "true/false, formula guard per cell)",
    "ferry-csv": "export_render: count() for progress, choice labels, true/false, formula "
    "guard, progress and cancel checks per chunk; a chunk's lines built by Ferry, csv.writer "
    "only for rows with cells to quote",
    "die-csv": "django-import-export ModelResource.export() then Dataset.csv",
    "xlsxwriter": "values_list().iterator() -> XlsxWriter constant_memory write_row, no "
    "formats: the limit",
    "ferry-xlsx": "export_render: XlsxWriter constant_memory, bold frozen header, column "
    "widths and number/date formats, autofilter",
    "die-xlsx": "django-import-export ModelResource.export() then Dataset.xlsx",
    "json-dumps": "values_list().iterator() -> json.dumps of a dict per row (default=str), "
    "joined into one array: the limit",
    "ferry-json": "export_render: one JSON array of objects, same keys and values as "
    "json-dumps' file but choice labels",
}


# --- parent: database, seeds, orchestration --------------------------------------------------
def seed(slug: str, rows: int) -> None:
    import datetime as dt

    from accounts.models import Organization
    from business.models import Account, Contact

    org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": f"Bench {slug}"})
    have = Contact.objects.filter(organization=org).count()
    if have >= rows:
        return
    if not Account.objects.filter(organization=org).exists():
        Account.objects.bulk_create(
            Account(organization=org, name=f"Account {i:04d}", city="Lyon") for i in range(500)
        )
    accounts = list(Account.objects.filter(organization=org))
    stages = ["lead", "prospect", "customer"]
    started = time.perf_counter()
    batch = []
    for i in range(have, rows):
        batch.append(
            Contact(
                organization=org,
                email=f"person{i}@bench.example",
                first_name=f"First{i % 997}",
                last_name=f"Last-name {i % 7919}",
                account=accounts[i % len(accounts)] if i % 4 else None,
                phone=f"+33 1 {i % 100:02d} {i % 1000:03d} {i % 10000:04d}",
                title="Purchasing lead" if i % 3 else "",
                lifecycle_stage=stages[i % 3],
                source="Trade show" if i % 5 == 0 else "Web",
                do_not_email=i % 11 == 0,
                birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000),
            )
        )
        if len(batch) == 10_000:
            Contact.objects.bulk_create(batch)
            batch = []
    if batch:
        Contact.objects.bulk_create(batch)
    print(f"  seeded {rows - have:,} contacts in {slug} in {time.perf_counter() - started:.1f} s")


def drop() -> None:
    from accounts.models import Organization

    for org in Organization.objects.filter(slug__startswith="bench-"):
        print(f"  dropping {org.slug}")
        org.delete()


def measure_group(title, sides, *, repeat, against, argv_of) -> None:
    results: dict[str, list] = {side: [] for side in sides}
    print(f"\n{title}:")
    for side in sides:
        print(f"  {side:<16} {SIDE_DOES.get(side, '')}")
    for _r, order in measure.rounds(sides, repeat):
        for side in order:
            results[side].append(measure.child_run(__file__, argv_of(side)))
    measure.table_print(results, against=against, title=title)


def parent(args) -> None:
    measure.django_setup()
    from django.db import connection

    measure.database_ready()
    if args.drop:
        drop()
        return
    sizes = [int(s) for s in args.sizes.split(",") if int(s)]
    for n in [*sizes, args.pdf_rows]:
        if n:
            seed(f"bench-{n}", n)
    if args.sales_scale:
        from business.demo import demo_seed

        result = demo_seed(scale=args.sales_scale)
        print(f"  demo organization {result.organization.slug}: {result.totals}")
    print(f"database: {connection.settings_dict['NAME']} ({connection.vendor})", flush=True)
    connection.close()
    with tempfile.TemporaryDirectory(prefix="ferry-bench-export-") as tmp:
        for n in sizes:
            for fmt in args.formats.split(","):
                sides = [s for s in SIDES[fmt] if not (s.startswith("die-") and n > args.die_max)]
                measure_group(
                    f"export {n:,} contacts to {fmt.upper()}",
                    sides,
                    repeat=args.repeat,
                    against=LIMIT.get(fmt),
                    argv_of=lambda side, n=n: [
                        "--child",
                        side,
                        "--org",
                        f"bench-{n}",
                        "--out",
                        f"{tmp}/{side}",
                    ],
                )
        if args.pdf_rows:
            measure_group(
                f"export {args.pdf_rows:,} contacts to PDF",
                ["reportlab", "ferry-pdf"],
                repeat=args.repeat,
                against="reportlab",
                argv_of=lambda side: [
                    "--child",
                    side,
                    "--org",
                    f"bench-{args.pdf_rows}",
                    "--out",
                    f"{tmp}/{side}.pdf",
                ],
            )
        if args.sales_scale:
            from business.demo import DEMO_SLUG

            measure_group(
                f"sales report PDF, demo data at scale {args.sales_scale}",
                ["ferry-sales-pdf"],
                repeat=args.repeat,
                against=None,
                argv_of=lambda side: [
                    "--child",
                    side,
                    "--org",
                    DEMO_SLUG,
                    "--out",
                    f"{tmp}/sales.pdf",
                ],
            )


# --- child: one measurement ------------------------------------------------------------------
def die_resource(org, paths):
    from import_export import resources

    from business.models import Contact

    class ContactResource(resources.ModelResource):
        class Meta:
            model = Contact
            fields = tuple(paths)
            export_order = tuple(paths)

        def get_queryset(self):
            return Contact.objects.filter(organization=org).order_by("pk")

    return ContactResource()


def reportlab_pdf(path, labels, rows_iter) -> int:
    """ReportLab platypus, one Table per 500 rows (one huge Table is quadratic in its layout)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), "Helvetica", 6.5),
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 6.5),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.whitesmoke]),
        ]
    )
    story = [Paragraph("Contacts", getSampleStyleSheet()["Title"])]
    chunk: list = []
    rows = 0
    width = (landscape(A4)[0] - 60) / len(labels)
    for row in rows_iter:
        chunk.append(["" if v is None else str(v) for v in row])
        rows += 1
        if len(chunk) == 500:
            story.append(Table([labels, *chunk], colWidths=width, repeatRows=1, style=style))
            chunk = []
    if chunk:
        story.append(Table([labels, *chunk], colWidths=width, repeatRows=1, style=style))
    SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=30, rightMargin=30).build(story)
    return rows


def csv_same(path, labels, fields, rows_iter) -> int:
    """csv.writer written by hand to give Ferry's CSV byte for byte on these columns: choice
    labels, true/false, formula guard (``neutralize``) on every text cell."""
    from business.resources import FieldType
    from business.writers.base import neutralize

    rows = 0
    choice = [dict(f.choices) if f.type == FieldType.CHOICE else None for f in fields]
    boolean = [f.type == FieldType.BOOLEAN for f in fields]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([neutralize(label) for label in labels])
        for row in rows_iter:
            cells = []
            for value, labels_of, is_bool in zip(row, choice, boolean, strict=True):
                if labels_of is not None:
                    value = labels_of.get(value, value)
                if is_bool and value is not None:
                    value = "true" if value else "false"
                cells.append(neutralize(value))
            writer.writerow(cells)
            rows += 1
    return rows


def child(args) -> None:
    measure.django_setup()
    from django.db import connection

    from accounts.models import Organization
    from business.resources import resource_get
    from reports.exporters import NullProgress, export_render

    org = Organization.objects.get(slug=args.org)
    resource = resource_get("contacts")
    fields = list(resource.default_export_fields())
    labels = [str(f.label) for f in fields]
    paths = [f.export_path for f in fields]
    qs = resource.queryset(org).order_by("pk")
    out = args.out
    side = args.child
    if side.startswith("ferry-"):
        from reports.exporters.registry import exporter_get

        # The exporter registry imports every report module on first use (~0.05 s, more
        # without .pyc files), once per worker process, not per export: loaded before the
        # clock starts, like the modules the other sides use.
        exporter_get(resource.name)
    meter = measure.Meter(connection)
    with meter:
        if side == "csv-writer":
            rows = 0
            with open(out, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(labels)
                for row in qs.values_list(*paths).iterator(chunk_size=2000):
                    writer.writerow(row)
                    rows += 1
        elif side == "csv-writer-same":
            rows = csv_same(out, labels, fields, qs.values_list(*paths).iterator(chunk_size=2000))
        elif side == "json-dumps":
            rows = 0
            names = [f.name for f in fields]
            dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode
            with open(out, "w", encoding="utf-8") as fh:
                fh.write("[")
                for row in qs.values_list(*paths).iterator(chunk_size=2000):
                    fh.write(
                        ("\n" if not rows else ",\n") + dumps(dict(zip(names, row, strict=True)))
                    )
                    rows += 1
                fh.write("\n]\n")
        elif side == "xlsxwriter":
            import xlsxwriter

            wb = xlsxwriter.Workbook(out, {"constant_memory": True})
            ws = wb.add_worksheet("Contacts")
            ws.write_row(0, 0, labels)
            rows = 0
            for rows, row in enumerate(qs.values_list(*paths).iterator(chunk_size=2000), 1):  # noqa: B007
                ws.write_row(rows, 0, row)
            wb.close()
        elif side in {"die-csv", "die-xlsx"}:
            dataset = die_resource(org, paths).export()
            rows = len(dataset)
            if side == "die-csv":
                with open(out, "w", encoding="utf-8", newline="") as fh:
                    fh.write(dataset.export("csv"))
            else:
                with open(out, "wb") as fh:
                    fh.write(dataset.export("xlsx"))
        elif side == "reportlab":
            rows = reportlab_pdf(out, labels, qs.values_list(*paths).iterator(chunk_size=2000))
        elif side == "ferry-sales-pdf":
            rows = export_render(
                organization=org,
                exporter="sales",
                format="pdf",
                params={},
                path=out,
                progress=NullProgress(),
            )["rows"]
        else:
            rows = export_render(
                organization=org,
                exporter=resource.name,
                format=side.removeprefix("ferry-"),
                params={},
                path=out,
                progress=NullProgress(),
            )["rows"]
    meter.sample.rows = rows
    meter.sample.extra = {"file MB": round(os.path.getsize(out) / 1e6, 1)}
    if side.startswith(("csv", "ferry-csv")):
        # Equal digests: the two sides wrote the same bytes.
        with open(out, "rb") as fh:
            meter.sample.extra["sha1"] = hashlib.sha1(fh.read()).hexdigest()[:10]  # noqa: S324
    os.unlink(out)
    meter.emit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--formats", default="csv,xlsx,json", help="comma-separated formats")
    parser.add_argument("--pdf-rows", type=int, default=10_000, help="0 skips the PDF runs")
    parser.add_argument("--sales-scale", type=int, default=0, help="sales report PDF at scale N")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--die-max", type=int, default=200_000, help="django-import-export ≤ N")
    parser.add_argument("--drop", action="store_true", help="remove the bench organizations")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--org", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    sys.exit(main())
