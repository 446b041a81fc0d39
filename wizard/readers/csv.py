"""CSV, TSV and TXT: streamed through the csv module, one record at a time.

The file is decoded incrementally (``io.TextIOWrapper`` with ``newline=""``), so LF, CRLF and
CR-only line endings all end a record while line breaks inside quotes are kept as they are
(RFC 4180). NUL bytes are dropped: no database text column can store them and they are never
meaningful in a CSV. Values stay strings; typing is the engine's work.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike

from wizard.readers.base import ReaderError
from wizard.readers.detect import (
    SNIFF_BYTES,
    bom_encoding,
    delimiter_detect,
    encoding_detect,
    path_size,
    read_head,
)

# A quote that never closes would otherwise swallow the rest of the file into one value.
MAX_FIELD_CHARS = 4 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))


class UndecodableError(ReaderError):
    """A byte the chosen encoding cannot decode; knows where, so detection can try again."""

    def __init__(self, message: str, *, line: int, offset: int):
        super().__init__(message)
        self.line = line
        self.offset = offset


_SEP_HINT = re.compile(r"^sep=(.)[ \t]*(?:\r\n|\r|\n|$)", re.IGNORECASE)


@dataclass
class CsvDialect:
    encoding: str
    delimiter: str
    warnings: list[str]


def csv_dialect(path: str | PathLike, *, encoding: str | None, delimiter: str | None) -> CsvDialect:
    head = read_head(path)
    if not head.strip(b" \t\r\n\x00"):
        raise ReaderError("The file is empty.")
    warnings: list[str] = []
    if encoding is None:
        encoding, warning = encoding_detect(head, at_eof=len(head) < SNIFF_BYTES)
        if warning:
            warnings.append(warning)
    if delimiter is None:
        _, bom_length = bom_encoding(head)
        text = head[bom_length:].decode(encoding, errors="replace")
        if len(head) >= SNIFF_BYTES:
            # The sample ends mid-record; a partial last line would skew the width counts.
            text = text[: max(text.rfind("\n"), text.rfind("\r"), 0)]
        # Excel writes (and honours) a first line "sep=;" naming the delimiter.
        hint = _SEP_HINT.match(text.lstrip("\ufeff"))
        delimiter = hint.group(1) if hint else delimiter_detect(text.replace("\x00", ""))
    return CsvDialect(encoding=encoding, delimiter=delimiter, warnings=warnings)


def _lines(handle: io.TextIOBase, counter: list[int]) -> Iterator[str]:
    first = True
    for line in handle:
        if first:
            # A BOM left by an explicit "utf-8"/"utf-16-le" choice must not stick to the first header.
            line = line.lstrip("\ufeff")
            first = False
        if "\x00" in line:
            counter[0] += line.count("\x00")
            line = line.replace("\x00", "")
        yield line


def csv_records(
    path: str | PathLike,
    *,
    encoding: str,
    delimiter: str,
    nul_counter: list[int] | None = None,
    stats: dict | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Every record as (number of its first line, values), blank lines included as [].

    ``stats["bytes"]`` (when given) follows how far into the file the reading has got, for
    estimating the row count of a big file from the first records.
    """
    counter = nul_counter if nul_counter is not None else [0]
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed in the finally below, the generator may stop early
    except OSError as exc:
        raise ReaderError(f"The file could not be opened ({exc.strerror or exc}).") from None
    try:
        handle = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        reader = csv.reader(
            _lines(handle, counter),
            delimiter=delimiter,
            quotechar='"',
            doublequote=True,
            # 'a, "b, c"' is how people hand-write CSV; RFC 4180 keeps the space, which breaks
            # the quoting. Leading spaces of unquoted values carry no meaning in an import.
            skipinitialspace=True,
            strict=False,
        )
        next_line = 1
        records = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                line, offset = undecodable_at(path, encoding)
                raise UndecodableError(
                    f"Line {line}: the file is not valid {encoding} text. "
                    "Choose its encoding (for example cp1252 or latin-1) and try again.",
                    line=line,
                    offset=offset,
                ) from None
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise ReaderError(
                        f"Line {next_line}: a quoted value never ends (a quote character is missing), "
                        "so the rest of the file cannot be split into rows."
                    ) from None
                raise ReaderError(f"Line {next_line}: {exc}.") from None
            number = next_line
            next_line = reader.line_num + 1
            if stats is not None and not records & 63:
                # Every 64th record: the text layer takes the file 8 KB at a time, so the
                # position moved only every ~80 records anyway, and each look costs a call.
                stats["bytes"] = raw.tell()
            records += 1
            yield number, record
    finally:
        raw.close()


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def undecodable_at(path: str | PathLike, encoding: str) -> tuple[int, int]:
    """The line and byte offset of the first byte that does not decode (the text layer reads
    ahead in chunks, so the csv reader's own line count is not where the bad byte is)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    breaks = 0
    position = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(64 * 1024):
            try:
                breaks += _line_breaks(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                good = chunk[: max(exc.start, 0)].decode(encoding, errors="ignore")
                return breaks + _line_breaks(good) + 1, position + max(exc.start, 0)
            position += len(chunk)
    return breaks + 1, position


def encoding_near(path: str | PathLike, offset: int) -> str | None:
    """A single-byte encoding guessed from the bytes around an offset, for a file that looked
    like UTF-8 in its first megabyte and is not further down."""
    with open(path, "rb") as handle:
        handle.seek(max(offset - 32 * 1024, 0))
        window = handle.read(64 * 1024)
    try:
        encoding, _ = encoding_detect(window, at_eof=True)
    except ReaderError:
        return None
    return None if encoding.startswith("utf") else encoding


def csv_row_estimate(
    path: str | PathLike, *, bytes_read: int, records_read: int, at_eof: bool
) -> tuple[int | None, bool]:
    """Exact when everything was read; otherwise extrapolated from the bytes per record so far."""
    if at_eof:
        return records_read, True
    if records_read == 0 or bytes_read == 0:
        return None, False
    return int(path_size(path) * records_read / bytes_read), False
