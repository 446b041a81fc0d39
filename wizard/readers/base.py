"""The readers' shared vocabulary: options, what inspection found, one source row, the error."""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from jobs.errors import FerryError

FORMATS = ("csv", "xlsx", "xls", "ods", "json", "jsonl")
EXCEL_FORMATS = ("xlsx", "xls", "ods")
JSON_FORMATS = ("json", "jsonl")
DELIMITERS = (",", ";", "\t", "|")

NOT_SUPPORTED = "This file is not a CSV, Excel (xlsx/xls/ods) or JSON file."

# Friendly spellings people type for a delimiter (CLI, forms).
_DELIMITER_NAMES = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "space": " ",
}


class ReaderError(FerryError):
    """The file cannot be read as asked: unreadable, unsupported or invalid. The message says why."""

    def __init__(self, message: str):
        super().__init__(message, code="unreadable")


@dataclass
class ReadOptions:
    """How to read a file. Every ``None`` means "detect it"."""

    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None

    def __post_init__(self) -> None:
        self.format = _clean_format(self.format)
        self.encoding = encoding_clean(self.encoding)
        self.delimiter = _clean_delimiter(self.delimiter)
        self.sheet = _blank_to_none(self.sheet)
        self.header_row = _clean_header_row(self.header_row)

    @classmethod
    def from_dict(cls, d: dict | None) -> ReadOptions:
        d = d or {}
        return cls(
            **{
                name: d.get(name)
                for name in ("format", "encoding", "delimiter", "sheet", "header_row")
            }
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class FileInfo:
    """What :func:`file_inspect` found; every detected setting can be fed back as a ReadOptions."""

    format: str
    encoding: str | None
    delimiter: str | None
    sheets: list[str]
    sheet: str | None
    header_row: int
    headers: list[str]
    row_estimate: int | None
    sample_rows: list[list]
    warnings: list[str] = field(default_factory=list)
    # True when row_estimate was counted, False when extrapolated from the file size.
    row_count_exact: bool = True
    # JSON only: the source key path behind each header (headers are made unique and non-blank,
    # keys are what the records really contain). None for CSV and Excel.
    keys: list[str] | None = None

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheets": list(self.sheets),
            "sheet": self.sheet,
            "header_row": self.header_row,
            "headers": list(self.headers),
            "row_estimate": self.row_estimate,
            "row_count_exact": self.row_count_exact,
            "sample_rows": [[json_safe(v) for v in row] for row in self.sample_rows],
            "warnings": list(self.warnings),
            "keys": list(self.keys) if self.keys is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FileInfo:
        return cls(
            format=d["format"],
            encoding=d.get("encoding"),
            delimiter=d.get("delimiter"),
            sheets=list(d.get("sheets") or []),
            sheet=d.get("sheet"),
            header_row=int(d.get("header_row") or 0),
            headers=list(d.get("headers") or []),
            row_estimate=d.get("row_estimate"),
            sample_rows=list(d.get("sample_rows") or []),
            warnings=list(d.get("warnings") or []),
            row_count_exact=bool(d.get("row_count_exact", True)),
            keys=d.get("keys"),
        )

    def options(self) -> ReadOptions:
        """The settings that reproduce exactly this reading."""
        return ReadOptions(
            format=self.format,
            encoding=self.encoding,
            delimiter=self.delimiter,
            sheet=self.sheet,
            header_row=self.header_row,
        )


class SourceRow(NamedTuple):
    """One data row. ``values`` is not padded or cut to the headers: ragged rows stay ragged.

    A tuple: a reader makes one per row of the file, and ``source_rows`` makes them from
    (number, values) pairs without a call per row."""

    number: int
    values: list


# SourceRow from a (number, values) pair, in C: ``tuple.__new__`` is what ``_make`` calls.
_source_row = partial(tuple.__new__, SourceRow)


def source_rows(records: Iterable[tuple[int, list]]) -> Iterator[SourceRow]:
    """``SourceRow``s of (number, values) pairs, lazily."""
    return map(_source_row, records)


def json_safe(value: Any) -> Any:
    """A cell value as something json.dumps accepts and a person reads the same way."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # NaN/inf cannot come from a valid file, but a formula error might produce one.
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _clean_format(value: Any) -> str | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    name = str(value).strip().lower().lstrip(".")
    name = {"tsv": "csv", "txt": "csv", "ndjson": "jsonl", "xlsm": "xlsx"}.get(name, name)
    if name not in FORMATS:
        raise ReaderError(f"Unknown file format '{value}'. Use one of: {', '.join(FORMATS)}.")
    return name


def encoding_clean(value: Any) -> str | None:
    """The canonical name of a text encoding, or None for "detect it".

    The one check of a chosen encoding for the wizard, the command line and the API. Python's
    codec registry also holds bytes-to-bytes and str-to-str codecs (base64, zlib, hex, rot13):
    they are not text encodings, and reading a file with one crashes deep in the reader.
    """
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        info = codecs.lookup(str(value).strip())
    except (LookupError, ValueError):
        raise ReaderError(f"Unknown encoding '{value}' (try utf-8, cp1252 or latin-1).") from None
    # _is_text_encoding is private but the documented way Python itself refuses these codecs
    # in str.encode/bytes.decode ("is not a text encoding").
    if not getattr(info, "_is_text_encoding", True):
        raise ReaderError(
            f"'{value}' is not a text encoding, so a file cannot be read with it "
            "(try utf-8, cp1252 or latin-1)."
        )
    return info.name


def _clean_delimiter(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    text = _DELIMITER_NAMES.get(text.strip().lower(), text) if text.strip() else text
    if len(text) != 1 or text in '"\r\n':
        raise ReaderError(
            f"The delimiter must be one character, such as , ; | or tab (got '{value}')."
        )
    return text


def _clean_header_row(value: Any) -> int | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ReaderError(f"The header row must be a row number (got '{value}').") from None
    if number < 0:
        raise ReaderError(f"The header row must be a row number of 1 or more (got {number}).")
    return number
