"""Readers: CSV/TSV, XLSX/XLS/ODS and JSON/JSON Lines files as a stream of rows.

The API the engine, the wizard and the CLI use::

    info = file_inspect(path, options=ReadOptions(...))   # format, encoding, delimiter, sheets,
                                                        # header row, headers, first rows
    for row in rows_read(path, info=info):              # SourceRow(number, values), lazily
        ...

``ReadOptions`` fields left as None are detected from the file's content. Problems a person
must fix in the file (unsupported, damaged, invalid) raise :class:`ReaderError` with a message
safe to show. Semantics worth knowing:

- ``SourceRow.number`` is the row a person finds in the file: the line where a CSV record
  starts, the sheet row in a workbook, the item's position in a JSON array (1-based), the line
  in JSON Lines.
- CSV values are strings; workbook and JSON values are str, int, float, Decimal (JSON
  numbers with a fraction), bool, date, datetime or None.
- Rows are not padded or cut to the headers (CSV rows keep their length; a workbook row is the
  header's width plus any filled cells beyond it; a JSON record has a value per known key, plus
  any keys never seen during inspection). The engine reports ragged rows.
- ``header_row`` is 1-based; ``0`` means "the file has no header row" (headers become
  "Column 1", "Column 2"…). JSON records have no header row: their keys are the headers and
  ``FileInfo.header_row`` is 1 (the option is ignored).
"""

from wizard.readers.base import (
    FORMATS,
    NOT_SUPPORTED,
    FileInfo,
    ReaderError,
    ReadOptions,
    SourceRow,
    encoding_clean,
    json_safe,
)
from wizard.readers.core import file_inspect, rows_read
from wizard.readers.detect import file_sniff_format

__all__ = [
    "FORMATS",
    "NOT_SUPPORTED",
    "FileInfo",
    "ReadOptions",
    "ReaderError",
    "SourceRow",
    "encoding_clean",
    "file_inspect",
    "file_sniff_format",
    "json_safe",
    "rows_read",
]
