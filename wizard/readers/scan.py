"""Finding the header among a file's first records, then counting and sampling the data rows.

Every format hands its rows over as ``(row number, values)`` records; this is the one place that
decides which record is the header, which rows are data (blank rows are skipped) and how many
there are (exactly, or estimated from the bytes read when counting stops early).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from os import PathLike

from wizard.readers.base import ReaderError
from wizard.readers.detect import path_size
from wizard.readers.header import header_detect, header_names
from wizard.readers.limits import columns_check

# Rows looked at to find the header; title blocks are a few rows, never hundreds.
HEAD_ROWS = 200

Record = tuple[int, list]


def row_blank(values: list) -> bool:
    for value in values:
        if value is not None and (type(value) is not str or value.strip()):
            return False
    return True


@dataclass
class TableScan:
    header_row: int
    headers: list[str]
    width: int
    sample: list[list] = field(default_factory=list)
    counted: int = 0
    finished: bool = True
    skipped_above: int = 0


def table_scan(
    records: Iterable[Record],
    *,
    header_row: int | None,
    sample_size: int,
    keep_counting: Callable[[int], bool],
) -> TableScan:
    iterator = iter(records)
    head = list(islice(iterator, HEAD_ROWS))
    # Before the header is looked for: its cost, and every later step's, grows with the width.
    columns_check(max((len(values) for _, values in head), default=0))
    if header_row is None:
        header_row = header_detect(head)
        if header_row is None:
            # Nothing but blank rows and comments in the first rows: no columns, and the "header"
            # is put on the last of those rows so that reading yields none of them as data.
            last = head[-1][0] if head else 1
            return TableScan(header_row=last, headers=[], width=0, finished=len(head) < HEAD_ROWS)
    scan = TableScan(header_row=header_row, headers=[], width=0)
    found = header_row == 0
    if found:
        widths = [len(values) for _, values in head if not row_blank(values)]
        scan.width = max(widths, default=0)
        scan.headers = [f"Column {index}" for index in range(1, scan.width + 1)]
    for number, values in chain(head, iterator):
        if not found:
            if number >= header_row:
                found = True
                scan.header_row = number
                scan.headers = header_names(values)
                scan.width = len(values)
            elif not row_blank(values):
                scan.skipped_above += 1
            continue
        if row_blank(values):
            continue
        scan.counted += 1
        if len(scan.sample) < sample_size:
            scan.sample.append(values)
        if not keep_counting(scan.counted):
            scan.finished = False
            break
    if not found:
        raise ReaderError(f"The header row {header_row} is past the last row of the file.")
    return scan


def data_records(records: Iterable[Record], header_row: int) -> Iterator[Record]:
    for record in records:
        if record[0] > header_row:
            values = record[1]
            if values:
                # The usual row says at once that it is not blank: its first cell has text.
                first = values[0]
                if first.__class__ is str and first.strip():
                    yield record
                    continue
            if not row_blank(values):
                yield record


def scan_warnings(scan: TableScan) -> list[str]:
    if scan.skipped_above:
        plural = "row" if scan.skipped_above == 1 else "rows"
        return [f"Skipped {scan.skipped_above} {plural} above the header (row {scan.header_row})."]
    return []


def row_estimate(
    path: str | PathLike, *, counted: int, finished: bool, bytes_read: int
) -> tuple[int, bool]:
    """(rows, exact): the count when the scan reached the end, else scaled by the file's size."""
    if finished:
        return counted, True
    return int(path_size(path) * counted / max(bytes_read, 1)), False
