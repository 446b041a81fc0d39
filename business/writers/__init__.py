"""Streaming writers: CSV, XLSX, JSON, JSON Lines and PDF behind one small interface."""

from __future__ import annotations

from business.writers.base import FORMATS, Column, UnknownFormat, Writer, neutralize
from business.writers.csvfile import CsvWriter
from business.writers.jsonfile import JsonLinesWriter, JsonWriter
from business.writers.pdf import PdfRowLimit, PdfWriterTable
from business.writers.xlsx import XlsxWriter

_WRITERS: dict[str, type[Writer]] = {
    "csv": CsvWriter,
    "xlsx": XlsxWriter,
    "json": JsonWriter,
    "jsonl": JsonLinesWriter,
    "pdf": PdfWriterTable,
}


def writer_for(format: str) -> type[Writer]:
    """The writer class for a format name (case-insensitive); FerryError for an unknown one."""
    key = (format or "").strip().lower()
    if key not in _WRITERS:
        raise UnknownFormat(format)
    return _WRITERS[key]


__all__ = [
    "FORMATS",
    "Column",
    "CsvWriter",
    "JsonLinesWriter",
    "JsonWriter",
    "PdfRowLimit",
    "PdfWriterTable",
    "UnknownFormat",
    "Writer",
    "XlsxWriter",
    "neutralize",
    "writer_for",
]
