"""Readers benchmark: python-calamine vs openpyxl read-only, and Ferry's readers per format.

    .venv/bin/python bench/bench_readers.py                 # 100,000 rows x 10 columns
    .venv/bin/python bench/bench_readers.py --rows 20000    # quicker
    .venv/bin/python bench/bench_readers.py --padded        # also a sheet padded to 1,048,576 rows

Every measurement runs in a fresh child process, so "peak RSS" is that reader's own high-water
mark (the interpreter with Django imported is printed as the baseline). Files are generated once
into a temporary folder (or --dir) and reused. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEADERS = [
    "id",
    "sku",
    "name",
    "email",
    "quantity",
    "price",
    "ordered_on",
    "active",
    "zip",
    "notes",
]


def _rows(count: int):
    rng = random.Random(1)
    start = dt.date(2020, 1, 1)
    for index in range(1, count + 1):
        yield [
            index,
            f"SKU-{index:07d}",
            f"Product {rng.randrange(10_000)}",
            f"person{index}@example.com",
            rng.randrange(1, 500),
            round(rng.random() * 1000, 2),
            start + dt.timedelta(days=index % 1500),
            index % 3 == 0,
            f"{rng.randrange(100_000):05d}",
            "lorem ipsum dolor sit amet" if index % 5 else "",
        ]


def generate(directory: Path, count: int) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "xlsx": directory / f"rows-{count}.xlsx",
        "csv": directory / f"rows-{count}.csv",
        "json": directory / f"rows-{count}.json",
    }
    if not files["xlsx"].exists():
        import openpyxl

        started = time.perf_counter()
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("data")
        sheet.append(HEADERS)
        for row in _rows(count):
            sheet.append(row)
        workbook.save(files["xlsx"])
        print(
            f"  generated {files['xlsx'].name} in {time.perf_counter() - started:.1f}s", flush=True
        )
    if not files["csv"].exists():
        with open(files["csv"], "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            for row in _rows(count):
                writer.writerow(row)
    if not files["json"].exists():
        with open(files["json"], "w", encoding="utf-8") as handle:
            handle.write("[\n")
            for index, row in enumerate(_rows(count)):
                record = dict(zip(HEADERS, row, strict=True))
                record["ordered_on"] = record["ordered_on"].isoformat()
                handle.write(("," if index else " ") + json.dumps(record) + "\n")
            handle.write("]\n")
    return files


def generate_padded(directory: Path) -> Path:
    """Two data rows, then empty styled rows down to Excel's last row (1,048,576)."""
    path = directory / "padded-1m.xlsx"
    if path.exists():
        return path
    import openpyxl
    from openpyxl.styles import Font

    small = directory / "padded-seed.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["name", "quantity"])
    sheet.append(["a", 1])
    sheet.append(["b", 2])
    sheet["A4"].font = Font(bold=True)
    workbook.save(small)
    padding = "".join(f'<row r="{row}"><c r="A{row}" s="1"/></row>' for row in range(4, 1_048_577))
    with (
        zipfile.ZipFile(small) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                start = text.index('<row r="4"')
                end = text.index("</sheetData>")
                text = text[:start] + padding + text[end:]
                # Say the truth in <dimension>: readers that trust it must walk every row.
                text = re.sub(
                    r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:B1048576"/>', text
                )
                data = text.encode("utf-8")
            target.writestr(item, data)
    small.unlink()
    return path


# --- children: one measurement per process ---------------------------------------------------


def _peak_mb() -> float:
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's high-water mark
    # over the fork.
    with open("/proc/self/status") as status:
        for entry in status:
            if entry.startswith("VmHWM:"):
                return int(entry.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, path: str) -> None:
    if kind == "baseline" or kind.startswith("ferry"):
        _django()
    started = time.perf_counter()
    count = 0
    if kind == "baseline":
        pass
    elif kind == "calamine":
        import python_calamine

        workbook = python_calamine.CalamineWorkbook.from_path(path)
        for _row in workbook.get_sheet_by_index(0).iter_rows():
            count += 1
    elif kind == "openpyxl":
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for _row in workbook.worksheets[0].iter_rows(values_only=True):
            count += 1
        workbook.close()
    elif kind.startswith("ferry"):
        from wizard.readers import excel, file_inspect, rows_read

        if kind == "ferry-xlsx-streamed":
            excel.CALAMINE_MAX_SHEET_XML_BYTES = 0

        info = file_inspect(path)
        for _row in rows_read(path, info=info):
            count += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"rows": count, "seconds": elapsed, "peak_mb": _peak_mb()}))


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def measure(kind: str, path: Path | str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def line(label: str, figures: dict, rows: int | None = None) -> str:
    rate = figures["rows"] / figures["seconds"] if figures["seconds"] else 0
    return (
        f"  {label:<34} {figures['rows']:>9,} rows  {figures['seconds']:7.2f} s  "
        f"{rate:>10,.0f} rows/s  peak RSS {figures['peak_mb']:6.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "ferry-bench-readers"
    )
    parser.add_argument(
        "--padded", action="store_true", help="also time a sheet padded to 1,048,576 rows"
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    print(f"Readers benchmark: {args.rows:,} rows x {len(HEADERS)} columns, files in {args.dir}")
    files = generate(args.dir, args.rows)
    sizes = ", ".join(f"{kind} {path.stat().st_size / 1e6:.1f} MB" for kind, path in files.items())
    print(f"  sizes: {sizes}")
    print(line("baseline (python + django setup)", measure("baseline", "-")))
    print("xlsx libraries (iterate every row of the sheet):")
    calamine = measure("calamine", files["xlsx"])
    openpyxl_ = measure("openpyxl", files["xlsx"])
    print(line("python-calamine", calamine))
    print(line("openpyxl read-only", openpyxl_))
    print(f"  calamine is {openpyxl_['seconds'] / calamine['seconds']:.1f}x faster")
    print("Ferry readers (file_inspect + rows_read):")
    for kind in ("xlsx", "csv", "json"):
        print(line(f"ferry {kind}", measure(f"ferry-{kind}", files[kind])))
    print(
        line("ferry xlsx, streamed path (openpyxl)", measure("ferry-xlsx-streamed", files["xlsx"]))
    )
    if args.padded:
        padded = generate_padded(args.dir)
        print(f"Sheet padded to 1,048,576 rows ({padded.stat().st_size / 1e6:.1f} MB):")
        print(line("python-calamine", measure("calamine", padded)))
        print(line("openpyxl read-only", measure("openpyxl", padded)))
        print(line("ferry xlsx", measure("ferry-xlsx", padded)))


if __name__ == "__main__":
    main()
