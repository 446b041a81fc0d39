"""Identifying a file by its content: format, text encoding, delimiter, archive safety.

The extension a browser sends is not trusted: an ``.csv`` that is really an xlsx is read as
xlsx, and a PDF renamed ``.csv`` is refused. Text encodings: a byte-order mark decides first;
then strict UTF-8; then charset-normalizer on a bounded sample (never a hand-rolled guesser).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections import Counter
from os import PathLike
from pathlib import Path

import charset_normalizer
from django.conf import settings

from wizard.readers.base import DELIMITERS, NOT_SUPPORTED, ReaderError

# Enough bytes to see past a title block into the data, small enough to decide in milliseconds.
SNIFF_BYTES = 1024 * 1024
# charset-normalizer's cost grows with its input (~0.7 s for 1 MB here, ~0.1 s for 256 KB).
CHARSET_SAMPLE_BYTES = 256 * 1024

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Formats people upload by mistake; refused at once instead of being read as odd text. Only
# signatures no CSV can start with (a header may well begin "ID3" or "MZ"); other binary files
# are caught by their control bytes.
_BINARY_MAGIC = (
    b"%PDF-",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!\x1a",
    b"\x7fELF",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",
    b"SQLite format 3\x00",
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Archive limits for xlsx/ods (zip) files. A real workbook's XML compresses 5-20x; a file padded
# with a million empty styled rows about 10-50x; zip bombs hundreds to millions of times.
DEFAULT_MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
DEFAULT_MAX_COMPRESSION_RATIO = 200
# Tiny members (styles, rels) compress extremely well and are harmless; the ratio rule only
# applies once a member has expanded past this size.
_RATIO_FLOOR_BYTES = 4 * 1024 * 1024


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, "FERRY", {}).get(name, default))


def read_head(path: str | PathLike, size: int = SNIFF_BYTES) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise ReaderError(f"The file could not be opened ({exc.strerror or exc}).") from None


def bom_encoding(head: bytes) -> tuple[str | None, int]:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    return None, 0


def file_sniff_format(path: str | PathLike) -> str:
    """ "csv", "xlsx", "xls", "ods", "json" or "jsonl", decided by the bytes, not the name."""
    head = read_head(path)
    if not head:
        raise ReaderError("The file is empty.")
    if head.startswith(_ZIP):
        return _zip_format(path)
    if head.startswith(_OLE2):
        return "xls"
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        raise ReaderError(NOT_SUPPORTED)
    encoding, bom_length = bom_encoding(head)
    if encoding is None:
        encoding = _nul_pattern_encoding(head)
    if encoding is None:
        encoding = "utf-8"
    text = head[bom_length:].decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if not text:
        raise ReaderError("The file is empty.")
    if _looks_binary(head, encoding):
        raise ReaderError(NOT_SUPPORTED)
    lowered = text[:200].lower()
    if lowered.startswith(("<?xml", "<!doctype", "<html", "<table", "<workbook")):
        # HTML tables and SpreadsheetML saved with an .xls name: a browser could show them,
        # but they are not spreadsheets Ferry reads.
        raise ReaderError(NOT_SUPPORTED)
    if text[0] == "[":
        # A CSV cell never starts a file with "["; a JSON array (valid or not) does.
        return "json"
    if text[0] == "{":
        return _json_or_lines(text)
    return "csv"


def _json_or_lines(text: str) -> str:
    """One object per line is JSON Lines; anything else starting with ``{`` is one JSON document."""
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        # Invalid or cut off by the sample: the JSON reader reports the precise problem.
        return "json"
    rest = text[end:]
    stripped = rest.lstrip(" \t\r")
    if stripped.startswith("\n") and stripped.lstrip().startswith("{"):
        return "jsonl"
    return "json"


def _zip_format(path: str | PathLike) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                if archive.read("mimetype").strip() == _ODS_MIMETYPE:
                    return "ods"
                raise ReaderError(NOT_SUPPORTED)
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                if "xl/workbook.bin" in names:
                    raise ReaderError(
                        "Binary Excel workbooks (.xlsb) are not supported; save the file as .xlsx."
                    )
                return "xlsx"
    except zipfile.BadZipFile:
        raise ReaderError("The file looks like a zip archive but it is damaged.") from None
    except OSError as exc:
        raise ReaderError(f"The file could not be opened ({exc.strerror or exc}).") from None
    raise ReaderError(NOT_SUPPORTED)


def zip_check_safe(path: str | PathLike) -> None:
    """Refuse archive bombs before a spreadsheet library opens the file.

    The sizes in a zip directory can lie, so each member is really decompressed (streamed, in
    bounded chunks) and counted; reading stops as soon as a limit is passed.
    """
    max_total = _limit("MAX_UNCOMPRESSED_BYTES", DEFAULT_MAX_UNCOMPRESSED_BYTES)
    max_ratio = _limit("MAX_COMPRESSION_RATIO", DEFAULT_MAX_COMPRESSION_RATIO)
    refused = ReaderError(
        "This file expands to far more data than a spreadsheet of its size can hold "
        "(a possible archive bomb), so it was not opened."
    )
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                if member.file_size > max_total:
                    raise refused
                expanded = 0
                with archive.open(member) as stream:
                    while chunk := stream.read(1024 * 1024):
                        expanded += len(chunk)
                        total += len(chunk)
                        if total > max_total:
                            raise refused
                        if expanded > _RATIO_FLOOR_BYTES and expanded > max_ratio * max(
                            member.compress_size, 1
                        ):
                            raise refused
    except zipfile.BadZipFile:
        raise ReaderError("The file looks like a zip archive but it is damaged.") from None
    except (RuntimeError, NotImplementedError):
        # Encrypted members or compression methods zipfile cannot read.
        raise ReaderError("The workbook is encrypted or uses an unsupported compression.") from None


def _nul_pattern_encoding(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark: every other byte of Latin text is NUL."""
    sample = head[: 64 * 1024]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if odd > even * 4:
        return "utf-16-le"
    if even > odd * 4:
        return "utf-16-be"
    return None


def _looks_binary(head: bytes, encoding: str) -> bool:
    if encoding.startswith(("utf-16", "utf-32")):
        return False
    sample = head[: 64 * 1024]
    control = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    return control > max(8, len(sample) // 20)


def encoding_detect(head: bytes, *, at_eof: bool) -> tuple[str, str | None]:
    """The encoding of a text file from its first bytes, and a warning when it is a guess."""
    encoding, _ = bom_encoding(head)
    if encoding:
        return encoding, None
    encoding = _nul_pattern_encoding(head)
    if encoding:
        return encoding, f"Encoding guessed as {encoding} (no byte-order mark)."
    try:
        head.decode("utf-8")
        return "utf-8", None
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if not at_eof and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8", None
    name = _single_byte_guess(head[:CHARSET_SAMPLE_BYTES])
    return (
        name,
        f"Encoding guessed as {name}; choose another encoding if accented letters look wrong.",
    )


def _single_byte_guess(sample: bytes) -> str:
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        # Every candidate looked too "messy" (short, repetitive or symbol-heavy text); accept
        # more mess before giving up on the file being text at all.
        matches = charset_normalizer.from_bytes(sample, threshold=0.5)
        best = matches.best()
    if best is None:
        for fallback in ("cp1252", "latin-1"):
            try:
                sample.decode(fallback)
            except UnicodeDecodeError:
                continue
            return codecs.lookup(fallback).name
    name = best.encoding
    # On short or accent-poor samples several single-byte code pages decode about as cleanly
    # and the ranking is arbitrary (French "Qualité élevée" comes out as mac_latin2 or cp775, a
    # lone "é" as Japanese cp932). Windows-1252 is what Excel writes on Western systems, so it
    # wins whenever it is nearly as clean as the best; text really in another code page (Polish
    # cp1250, Greek cp1253, Cyrillic cp1251) decodes visibly worse as cp1252 and keeps its own.
    for match in matches:
        if match.chaos <= best.chaos + 0.1 and "cp1252" in (
            match.could_be_from_charset or [match.encoding]
        ):
            name = "cp1252"
            break
    return codecs.lookup(name).name


def delimiter_detect(text: str) -> str:
    """The delimiter among , ; tab | that splits the sample into the most consistent table."""
    lines = text.splitlines(keepends=True)[:200]
    sample = "".join(lines)
    best: tuple[float, int, int] | None = None
    chosen = ","
    for priority, delimiter in enumerate(DELIMITERS):
        if delimiter not in sample:
            continue
        try:
            records = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        widths = [len(record) for record in records if any(cell.strip() for cell in record)]
        if not widths:
            continue
        width, freq = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        # Consistency first (share of rows with the usual width), then the wider split.
        score = (round(freq / len(widths), 1), width, -priority)
        if best is None or score > best:
            best = score
            chosen = delimiter
    return chosen


def path_size(path: str | PathLike) -> int:
    return Path(path).stat().st_size
