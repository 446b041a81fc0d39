"""Finding the header row among the first rows of a table, and naming its columns.

Real exports put things above the header: a report title in one cell, a date line, blank
rows, ``#`` comments, a logo row. The header is taken to be the first row that is as wide as
the table below it (at least half of the table's usual number of filled cells, and at least two
cells unless the whole table is one column) and that is not a comment.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from wizard.readers.base import is_blank

_WHITESPACE = re.compile(r"\s+")
_NUMBER_LIKE = re.compile(r"^[\s(+-]*[$€£¥]?\s*\d[\d.,\s/:-]*%?\)?$")


def filled_count(row: Sequence[Any]) -> int:
    return sum(1 for value in row if not is_blank(value))


def is_comment(row: Sequence[Any]) -> bool:
    first = next((value for value in row if not is_blank(value)), None)
    return isinstance(first, str) and first.lstrip().startswith("#")


def looks_like_data(value: Any) -> bool:
    """A number, date or number-like text: what data cells hold and label cells do not."""
    if isinstance(value, bool | int | float | Decimal | dt.date | dt.time):
        return True
    return isinstance(value, str) and bool(_NUMBER_LIKE.match(value))


def header_detect(rows: Sequence[tuple[int, Sequence[Any]]]) -> int | None:
    """The row number of the header among ``(number, values)`` rows, or None when all are blank."""
    candidates = [
        (number, row) for number, row in rows if filled_count(row) and not is_comment(row)
    ]
    if not candidates:
        return None
    counts = [filled_count(row) for _, row in candidates]
    # The table's usual width: the most common filled count among multi-cell rows; ties go to
    # the wider one, because data rows with blanks are narrower than the header, never wider.
    wide = Counter(count for count in counts if count >= 2)
    if not wide:
        return candidates[0][0]
    best = max(wide.items(), key=lambda item: (item[1], item[0]))[0]
    threshold = max(2, math.ceil(best / 2))
    for position, count in enumerate(counts):
        if count >= threshold:
            return _last_header_line(candidates, counts, position, best)
    return candidates[0][0]


def _last_header_line(candidates, counts, position: int, width: int) -> int:
    """The last row of a header written over several rows (group titles above column titles).

    A row well short of the table's width is followed by a wider row made only of labels: the
    wider row names the columns. Stops at the first row holding a number or a date (data).
    """
    while position + 1 < len(candidates) and counts[position] < 0.75 * width:
        row = candidates[position + 1][1]
        if counts[position + 1] <= counts[position] or counts[position + 1] < width:
            break
        if any(looks_like_data(value) for value in row if not is_blank(value)):
            break
        position += 1
    return candidates[position][0]


def header_cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    # Headers with tabs, line breaks, vertical tabs or form feeds inside quotes are common in
    # exports; one space reads the same and can be typed in a mapping.
    return _WHITESPACE.sub(" ", str(value)).strip()


def header_names(values: Sequence[Any]) -> list[str]:
    """Unique, non-blank names: a blank 3rd header is "Column 3", a second "Name" is "Name (2)"."""
    texts = [header_cell_text(value) for value in values]
    # Names in the file win over generated ones, so a generated name never shadows a real header.
    reserved = {text.casefold() for text in texts if text}
    used: set[str] = set()
    names: list[str] = []
    for index, text in enumerate(texts, start=1):
        if text and text.casefold() not in used:
            name = text
        else:
            base = text or f"Column {index}"
            name = base
            suffix = 2 if text else 1
            while name.casefold() in used or (name != text and name.casefold() in reserved):
                name = f"{base} ({suffix})" if suffix > 1 else base
                suffix += 1
        used.add(name.casefold())
        names.append(name)
    return names
