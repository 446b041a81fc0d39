"""The two entry points: :func:`file_inspect` (what is in a file) and :func:`rows_read` (its rows).

Every format is turned into the same thing, a stream of ``(row number, values)`` records; the
header row is found among the first records and the data rows after it are counted and sampled
by ``scan.py``. Nothing here holds more than the first few hundred records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import chain
from os import PathLike
from typing import Any

from wizard.readers import csv as csv_reader
from wizard.readers import excel as excel_reader
from wizard.readers import json as json_reader
from wizard.readers.base import (
    EXCEL_FORMATS,
    FileInfo,
    ReadOptions,
    SourceRow,
    is_blank,
    json_safe,
    source_rows,
)
from wizard.readers.detect import file_sniff_format
from wizard.readers.header import header_names
from wizard.readers.limits import columns_check, header_limits_check
from wizard.readers.scan import data_records, row_blank, row_estimate, scan_warnings, table_scan

# CSV and JSON are counted exactly up to this many bytes, and estimated from the bytes beyond.
EXACT_COUNT_BYTES = 8 * 1024 * 1024
# A sheet's rows are in memory already; counting them costs a Python list per row, so very
# long sheets are estimated from the last used row instead.
EXCEL_EXACT_ROWS = 5_000
# Warnings of one kind (duplicate JSON keys) are listed up to this many.
MAX_WARNINGS = 5


# --- CSV ---------------------------------------------------------------------------------


def _inspect_csv(
    path: str | PathLike, options: ReadOptions, sample_size: int, count: bool
) -> FileInfo:
    try:
        return _inspect_csv_as(path, options, sample_size, count)
    except csv_reader.UndecodableError as exc:
        if options.encoding is not None:
            raise
        # The first megabyte was UTF-8, a byte further down is not: guess again from there.
        fallback = csv_reader.encoding_near(path, exc.offset)
        if fallback is None:
            raise
        info = _inspect_csv_as(path, replace(options, encoding=fallback), sample_size, count)
        info.warnings.insert(
            0,
            f"Encoding guessed as {fallback}: the file is not UTF-8 (line {exc.line}); "
            "choose another encoding if accented letters look wrong.",
        )
        return info


def _inspect_csv_as(
    path: str | PathLike, options: ReadOptions, sample_size: int, count: bool
) -> FileInfo:
    dialect = csv_reader.csv_dialect(path, encoding=options.encoding, delimiter=options.delimiter)
    stats: dict = {"bytes": 0}
    nuls = [0]
    records = csv_reader.csv_records(
        path, encoding=dialect.encoding, delimiter=dialect.delimiter, nul_counter=nuls, stats=stats
    )
    try:
        scan = table_scan(
            records,
            header_row=options.header_row,
            sample_size=sample_size,
            keep_counting=lambda _counted: count and stats["bytes"] <= EXACT_COUNT_BYTES,
        )
    finally:
        records.close()
    estimate, exact = row_estimate(
        path, counted=scan.counted, finished=scan.finished, bytes_read=stats["bytes"]
    )
    warnings = dialect.warnings + scan_warnings(scan)
    if nuls[0]:
        warnings.append(f"Removed {nuls[0]} NUL byte(s) from the file's text.")
    return FileInfo(
        format="csv",
        encoding=dialect.encoding,
        delimiter=dialect.delimiter,
        sheets=[],
        sheet=None,
        header_row=scan.header_row,
        headers=scan.headers,
        row_estimate=estimate,
        row_count_exact=exact,
        sample_rows=[[json_safe(value) for value in row] for row in scan.sample],
        warnings=warnings,
    )


def _rows_csv(path: str | PathLike, info: FileInfo) -> Iterator[SourceRow]:
    records = csv_reader.csv_records(
        path, encoding=info.encoding or "utf-8", delimiter=info.delimiter or ","
    )
    return source_rows(data_records(records, info.header_row))


# --- Excel -------------------------------------------------------------------------------


def _pad(values: list, width: int) -> list:
    # A spreadsheet row has no length of its own: cells up to the header's width exist (blank
    # or not); only filled cells beyond it make a row "too long".
    return values + [None] * (width - len(values)) if len(values) < width else values


def _inspect_excel(
    path: str | PathLike, fmt: str, options: ReadOptions, sample_size: int, count: bool
) -> FileInfo:
    source = excel_reader.excel_sheet_open(path, fmt, options.sheet)
    try:
        scan = table_scan(
            source.records,
            header_row=options.header_row,
            sample_size=sample_size,
            keep_counting=lambda counted: count and counted < EXCEL_EXACT_ROWS,
        )
    finally:
        source.close()
    if scan.finished:
        estimate, exact = scan.counted, True
    else:
        estimate, exact = max(source.last_row - scan.header_row, scan.counted), False
    warnings = scan_warnings(scan)
    if not scan.headers and len(source.sheets) > 1:
        others = ", ".join(f"'{other}'" for other in source.sheets if other != source.name)
        warnings.append(f"The sheet '{source.name}' is empty; the workbook also has {others}.")
    return FileInfo(
        format=fmt,
        encoding=None,
        delimiter=None,
        sheets=source.sheets,
        sheet=source.name,
        header_row=scan.header_row,
        headers=scan.headers,
        row_estimate=estimate,
        row_count_exact=exact,
        sample_rows=[[json_safe(value) for value in _pad(row, scan.width)] for row in scan.sample],
        warnings=warnings,
    )


def _rows_excel(path: str | PathLike, info: FileInfo) -> Iterator[SourceRow]:
    source = excel_reader.excel_sheet_open(path, info.format, info.sheet)
    width = len(info.headers)
    try:
        for number, values in data_records(source.records, info.header_row):
            yield SourceRow(number=number, values=_pad(values, width))
    finally:
        source.close()


# --- JSON --------------------------------------------------------------------------------


def _json_stream(path: str | PathLike, fmt: str, pairs, stats: dict | None = None):
    if fmt == "jsonl":
        return json_reader.jsonl_elements(path, pairs, stats)
    return json_reader.json_elements(path, pairs, stats)


def _inspect_json(
    path: str | PathLike, fmt: str, options: ReadOptions, sample_size: int, count: bool
) -> FileInfo:
    pairs = json_reader.DuplicateKeys()
    stats: dict = {"bytes": 0}
    elements = _json_stream(path, fmt, pairs, stats)
    warnings: list[str] = []
    try:
        first = next(elements, None)
        if first is not None and first[2] in ("arrays", "values"):
            kind = first[2]
            records = (
                (number, [json_reader.cell_value(v) for v in item] if kind == "arrays" else [item])
                for number, item, _ in chain([first], elements)
            )
            scan = table_scan(
                records,
                header_row=options.header_row if kind == "arrays" else 0,
                sample_size=sample_size,
                keep_counting=lambda _counted: count and stats["bytes"] <= EXACT_COUNT_BYTES,
            )
            if kind == "values":
                scan.headers, scan.width = ["value"], 1
            warnings += scan_warnings(scan)
            headers, keys, header_row = scan.headers, None, scan.header_row
            counted, finished = scan.counted, scan.finished
            sample_rows = [[json_safe(value) for value in row] for row in scan.sample]
        else:
            keys: list[str] = []
            seen: set[str] = set()
            sample: list[dict] = []
            counted, finished, header_row = 0, True, 1
            for _number, item, _kind in chain([first] if first else [], elements):
                flat = dict(json_reader.record_flatten(item))
                for key in flat:
                    if key not in seen:
                        seen.add(key)
                        keys.append(key)
                columns_check(len(keys))
                if all(is_blank(value) for value in flat.values()):
                    continue
                counted += 1
                if len(sample) < sample_size:
                    sample.append(flat)
                if stats["bytes"] > EXACT_COUNT_BYTES:
                    finished = False
                    break
            headers = header_names(keys)
            sample_rows = [[json_safe(flat.get(key)) for key in keys] for flat in sample]
    finally:
        elements.close()
    for key in pairs.duplicates[:MAX_WARNINGS]:
        warnings.append(f"The key '{key}' appears twice in one record; the last value is used.")
    estimate, exact = row_estimate(
        path, counted=counted, finished=finished, bytes_read=stats["bytes"]
    )
    if not finished and keys is not None:
        warnings.append(
            "Columns were taken from the first records only; keys that appear first further down "
            "the file are reported as extra values on their rows."
        )
    return FileInfo(
        format=fmt,
        encoding=json_reader.json_encoding(path),
        delimiter=None,
        sheets=[],
        sheet=None,
        header_row=header_row,
        headers=headers,
        row_estimate=estimate,
        row_count_exact=exact,
        sample_rows=sample_rows,
        warnings=warnings,
        keys=keys,
    )


def _rows_json(path: str | PathLike, info: FileInfo) -> Iterator[SourceRow]:
    pairs = None
    index = {key: position for position, key in enumerate(info.keys or [])}
    width = len(index)
    for number, item, kind in _json_stream(path, info.format, pairs):
        values: list[Any]
        if kind in ("records", "object"):
            values = [None] * width
            extra: list[Any] = []
            for key, value in json_reader.record_flatten(item):
                position = index.get(key)
                if position is None:
                    extra.append(value)
                else:
                    values[position] = value
            values += extra
        elif kind == "arrays":
            if number <= info.header_row:
                continue
            values = [json_reader.cell_value(value) for value in item]
        else:
            values = [json_reader.cell_value(item)]
        if row_blank(values):
            continue
        yield SourceRow(number=number, values=values)


# --- the API -----------------------------------------------------------------------------


def file_inspect(
    path: str | PathLike, *, options: ReadOptions | None = None, sample_size: int = 20
) -> FileInfo:
    """What the readers find in the file: format, encoding, delimiter, sheets, header, first rows."""
    return _inspect(path, options or ReadOptions(), sample_size, count=True)


def _inspect(
    path: str | PathLike, options: ReadOptions, sample_size: int, *, count: bool
) -> FileInfo:
    # count=False: only the header is wanted (rows_read without an info), so CSV and workbook
    # rows are not counted. JSON records still scan their budget, as that is where keys appear.
    header_limits_check(path)
    fmt = options.format or file_sniff_format(path)
    if fmt == "csv":
        return _inspect_csv(path, options, sample_size, count)
    if fmt in EXCEL_FORMATS:
        return _inspect_excel(path, fmt, options, sample_size, count)
    return _inspect_json(path, fmt, options, sample_size, count)


def _resolve(path: str | PathLike, options: ReadOptions | None, info: FileInfo | None) -> FileInfo:
    if info is None:
        return _inspect(path, options or ReadOptions(), 0, count=False)
    if options is None:
        return info
    wanted = info.options().as_dict()
    asked = {name: value for name, value in options.as_dict().items() if value is not None}
    if all(wanted.get(name) == value for name, value in asked.items()):
        return info
    # An explicit option differs from what the inspection used: headers may change with it.
    if "format" in asked and asked["format"] != info.format:
        return _inspect(path, ReadOptions.from_dict(asked), 0, count=False)
    merged = ReadOptions.from_dict({**wanted, **asked})
    if "header_row" not in asked:
        # Another sheet, encoding or delimiter shows other rows: find their header again.
        merged.header_row = None
    return _inspect(path, merged, 0, count=False)


def rows_read(
    path: str | PathLike, *, options: ReadOptions | None = None, info: FileInfo | None = None
) -> Iterator[SourceRow]:
    """The data rows after the header, lazily. Settings problems raise here, at once;
    a problem further into the file (bad bytes, invalid JSON) raises ReaderError while iterating."""
    info = _resolve(path, options, info)
    if info.format == "csv":
        return _rows_csv(path, info)
    if info.format in EXCEL_FORMATS:
        return _rows_excel(path, info)
    return _rows_json(path, info)
