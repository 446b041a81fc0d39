"""Limits checked before any work: how many columns a table has, how long its header line is.

A CSV with 80,000 columns is a small file (700 KB) that costs seconds in every step that goes
through the columns (sniffing the delimiter, finding the header, matching names to fields),
and a 400,000-column one outlasts a web worker's timeout. Such files are refused at once,
from the first bytes, with a message that says why; the limits are settings
(``FERRY["MAX_COLUMNS"]``, ``FERRY["MAX_HEADER_BYTES"]``).
"""

from __future__ import annotations

from os import PathLike

from django.conf import settings

from jobs.errors import LimitExceeded
from wizard.readers.base import DELIMITERS
from wizard.readers.detect import _OLE2, _ZIP, _nul_pattern_encoding, bom_encoding, read_head

DEFAULT_MAX_COLUMNS = 2_000
DEFAULT_MAX_HEADER_BYTES = 1024 * 1024


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, "FERRY", {}).get(name, default))


def max_columns() -> int:
    return _setting("MAX_COLUMNS", DEFAULT_MAX_COLUMNS)


def _size(count: int) -> str:
    return f"{count / 1024**2:g} MB" if count >= 1024**2 else f"{count / 1024:g} KB"


def columns_check(count: int) -> None:
    """Refuse a table with more columns than Ferry reads."""
    limit = max_columns()
    if count > limit:
        raise LimitExceeded(
            f"This file has {count:,} columns; Ferry reads files with at most {limit:,} columns. "
            "Remove the columns you do not need, or split the file."
        )


def header_limits_check(path: str | PathLike) -> None:
    """Refuse a text file whose first line is longer or wider than a header can be.

    Runs on the raw first bytes, before the format, encoding or delimiter is sniffed. The
    delimiter is not known yet, so a line counts as wide as its most frequent candidate
    delimiter makes it. Workbooks (zip, OLE2) have no lines: their rows are checked as they are
    read (``columns_check``). JSON may well be one long line: its keys are counted instead.
    """
    byte_limit = _setting("MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES)
    head = read_head(path, byte_limit + 1)
    if head.startswith(_ZIP) or head.startswith(_OLE2):
        return
    encoding, bom_length = bom_encoding(head)
    encoding = encoding or _nul_pattern_encoding(head) or "utf-8"
    text = head[bom_length:].decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if text[:1] in ("[", "{"):
        return
    ends = [position for position in (text.find("\n"), text.find("\r")) if position >= 0]
    if not ends and len(head) > byte_limit:
        raise LimitExceeded(
            f"The first line of this file is longer than {_size(byte_limit)}, more than a row "
            "of column names can be. Check that it is a CSV, Excel or JSON file with a header row."
        )
    first_line = text[: min(ends)] if ends else text
    columns_check(max(first_line.count(delimiter) for delimiter in DELIMITERS) + 1)
