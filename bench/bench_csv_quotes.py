"""CSV writer alone, no database: the cost of rows whose cells need quotes.

    .venv/bin/python bench/bench_csv_quotes.py

Ferry's CSV writer builds a chunk's lines itself and has csv.writer write only the rows with a
cell to quote (business/writers/csvfile.py). This writes 200k rows shaped like the export
bench's contacts (bench_export.py), in chunks of 2000, with a growing share of rows holding a
comma in one cell, once that way and once with csv.writer for every row; Python CPU seconds,
best of 3. Figures only.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import measure

ROWS = 200_000
CHUNK = 2000


def chunks(share: float) -> list[list[tuple]]:
    pick = random.Random(1).random
    rows = [
        (
            f"person{i}@bench.example",
            f"First{i % 997}",
            f"Last, name {i}" if pick() < share else f"Last-name {i % 7919}",
            f"Account {i % 500:04d}" if i % 4 else None,
            f"+33 1 {i % 100:02d} {i % 1000:03d} {i % 10000:04d}",
            "Purchasing lead" if i % 3 else "",
            "Customer",
            "Web",
            i % 11 == 0,
            dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000),
        )
        for i in range(ROWS)
    ]
    return [rows[k : k + CHUNK] for k in range(0, ROWS, CHUNK)]


def main() -> None:
    measure.django_setup()
    from business.resources import FieldType as T
    from business.writers import Column, csvfile, writer_for

    types = [T.EMAIL, T.TEXT, T.TEXT, T.TEXT, T.TEXT, T.TEXT, T.CHOICE, T.TEXT, T.BOOLEAN, T.DATE]
    columns = [Column(f"c{i}", f"C{i}", t) for i, t in enumerate(types)]
    # One converter, as a resource export has: the rows go through the compiled row function.
    converters = [str, *[None] * (len(columns) - 1)]
    lines_allowed = csvfile.fast_delimiter

    def run(data, *, lines: bool) -> float:
        csvfile.fast_delimiter = lines_allowed if lines else (lambda delimiter, columns: False)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                started = time.process_time()
                with writer_for("csv")(Path(tmp) / "out.csv", title="T") as writer:
                    writer.section("T", columns, converters=converters)
                    for chunk in data:
                        writer.chunk(chunk)
                return time.process_time() - started
        finally:
            csvfile.fast_delimiter = lines_allowed

    print(f"{ROWS:,} rows, chunks of {CHUNK}: Python CPU s, best of 3")
    print(f"{'rows with a comma':>18} {'lines':>7} {'csv only':>9} {'ratio':>6}")
    for share in (0, 0.001, 0.05, 0.3, 0.6, 1.0):
        data = chunks(share)
        lines = min(run(data, lines=True) for _ in range(3))
        plain = min(run(data, lines=False) for _ in range(3))
        print(f"{share:>17.1%} {lines:>7.3f} {plain:>9.3f} {lines / plain:>6.2f}")


if __name__ == "__main__":
    sys.exit(main())
