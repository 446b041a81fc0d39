"""JSON (an array of records) and JSON Lines, streamed.

Big arrays are not loaded whole: a small incremental parser walks the top-level array and
hands each element to ``json.JSONDecoder.raw_decode`` on a buffered window of the decoded
text, so memory holds one record (plus a 64 KB window) at a time. The standard decoder is
kept for the grammar itself, so strings, escapes and numbers follow the stdlib exactly; ijson
was not added because this loop is all a record stream needs and has no extra dependency.

Strictness (where the stdlib is lenient, the reader is not):
- NaN, Infinity and -Infinity are refused (not JSON, although ``json.loads`` accepts them);
- trailing commas, comments and anything after the document are refused;
- the text must be valid UTF-8 (or UTF-16/32 with a byte-order mark); a stray Latin-1 byte is
  refused with its line, instead of being guessed at;
- every refusal names the line (and the column where the decoder knows it).
Duplicate keys are valid JSON (RFC 8259 only says names SHOULD be unique), so a file with them
is read, the last value wins, and inspection reports each such key as a warning.

JSONTestSuite's implementation-defined cases, as decided here: numbers too big for a float
are kept exactly as ``Decimal``/``int`` (``i_number_too_big_pos_int``,
``i_number_very_big_negative_int``) but an exponent beyond what Decimal can hold is refused
(``i_number_huge_exp``); UTF-16 with a BOM is read (``i_string_UTF-16LE_with_BOM``); a Latin-1
byte is refused (``i_string_iso_latin_1``); a UTF-8 BOM is skipped
(``i_structure_UTF-8_BOM_empty_object``).

Shapes: an array of objects (one row each), JSON Lines (one object per line), a single object
(one row), or an object with a single key holding an array of records (``{"records": [...]}``,
as Salesforce and many APIs write; such a top-level object is parsed whole, only top-level
arrays and JSON Lines stream). Nested objects become ``a.b`` columns; arrays inside a
record become their JSON text. An array of arrays is a table whose header is found like a
CSV's; an array of plain values is one column called "value".
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from os import PathLike
from typing import Any

from wizard.readers.base import ReaderError
from wizard.readers.csv import undecodable_at
from wizard.readers.detect import bom_encoding, read_head

CHUNK_CHARS = 64 * 1024
_SPACE = " \t\r\n"


class _Constant(Exception):
    def __init__(self, name: str):
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


def _number_error(exc: Exception) -> str:
    return "a number in this value is too large to read"


class DuplicateKeys:
    """object_pairs_hook that keeps the last value of a duplicated key and remembers the key."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen and key not in self.duplicates:
                    self.duplicates.append(key)
                seen.add(key)
        return result


def json_encoding(path: str | PathLike) -> str:
    """UTF-8 unless a byte-order mark says UTF-16/32 (RFC 8259 allows nothing else)."""
    encoding, _ = bom_encoding(read_head(path, 4))
    return encoding or "utf-8"


def _decoder(pairs: DuplicateKeys | None) -> json.JSONDecoder:
    # Without a pairs hook (None) the C scanner builds dicts itself, about twice as fast; the
    # last value of a duplicated key wins either way, so only inspection passes the hook, for
    # its warnings.
    return json.JSONDecoder(
        object_pairs_hook=pairs, parse_constant=_reject_constant, parse_float=Decimal
    )


class _Text:
    """The decoded text of a file in a sliding window, with line and column for messages."""

    def __init__(self, path: str | PathLike, encoding: str):
        try:
            self.raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise ReaderError(f"The file could not be opened ({exc.strerror or exc}).") from None
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.started = False
        self.line_base = 1
        self.col_base = 0

    def close(self) -> None:
        self.raw.close()

    def where(self, index: int) -> str:
        line = self.line_base + self.buf.count("\n", 0, index)
        newline = self.buf.rfind("\n", 0, index)
        column = index - newline if newline >= 0 else self.col_base + index + 1
        return f"Line {line}, column {column}"

    def fill(self, size: int = CHUNK_CHARS) -> bool:
        """Read more text into the window; False once the file is exhausted."""
        if self.eof:
            return False
        if self.pos:
            dropped = self.buf[: self.pos]
            newlines = dropped.count("\n")
            if newlines:
                self.line_base += newlines
                self.col_base = len(dropped) - dropped.rfind("\n") - 1
            else:
                self.col_base += len(dropped)
            self.buf = self.buf[self.pos :]
            self.pos = 0
        data = self.raw.read(size)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            good = data[: max(exc.start, 0)].decode(self.encoding, errors="ignore")
            line = self.line_base + self.buf.count("\n") + good.count("\n")
            raise ReaderError(
                f"Line {line}: the file is not valid {self.encoding.upper()} text "
                f"(byte 0x{data[exc.start]:02X} at this point). JSON files must be saved as UTF-8."
            ) from None
        if not data:
            self.eof = True
        if not self.started and text:
            self.started = True
            text = text.removeprefix("\ufeff")
        self.buf += text
        return True

    def peek(self) -> str | None:
        """The next character that is not white space, or None at the end of the file."""
        while True:
            buf, pos, size = self.buf, self.pos, len(self.buf)
            while pos < size and buf[pos] in _SPACE:
                pos += 1
            self.pos = pos
            if pos < size:
                return buf[pos]
            if not self.fill():
                return None

    def value(self, decoder: json.JSONDecoder) -> Any:
        """One JSON value starting at the window position; the window grows until it fits."""
        size = CHUNK_CHARS
        while True:
            start = self.pos
            try:
                obj, end = decoder.raw_decode(self.buf, start)
            except json.JSONDecodeError as exc:
                cut_off = exc.pos >= len(self.buf) - 8 or exc.msg.startswith("Unterminated string")
                if cut_off and not self.eof:
                    self.fill(size)
                    size *= 2
                    continue
                raise ReaderError(f"{self.where(exc.pos)}: invalid JSON ({exc.msg}).") from None
            except _Constant as exc:
                at = self.buf.find(exc.name, start)
                raise ReaderError(
                    f"{self.where(at if at >= 0 else start)}: {exc.name} is not allowed in JSON; "
                    "write the value as null or as a string."
                ) from None
            except (InvalidOperation, ValueError, OverflowError) as exc:
                raise ReaderError(f"{self.where(start)}: {_number_error(exc)}.") from None
            if end >= len(self.buf) and not self.eof:
                # A number (or literal) touching the window's end may continue past it.
                self.fill(size)
                size *= 2
                continue
            self.pos = end
            return obj

    def fail(self, message: str) -> ReaderError:
        return ReaderError(f"{self.where(self.pos)}: {message}")


# --- shapes ------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "value"


def json_elements(
    path: str | PathLike, pairs: DuplicateKeys | None, stats: dict | None = None
) -> Iterator[tuple[int, Any, str]]:
    """The items of a top-level JSON document as (number, item, kind of document).

    kind is "records" (array of objects, or the array under a single key), "arrays",
    "values" or "object" (a lone object, one record).
    """
    text = _Text(path, json_encoding(path))
    decoder = _decoder(pairs)
    try:
        first = text.peek()
        if first is None:
            raise ReaderError("The file is empty.")
        if first == "{":
            obj = text.value(decoder)
            if text.peek() is not None:
                raise text.fail("unexpected text after the end of the JSON document.")
            inner = list(obj.values())[0] if len(obj) == 1 else None
            if isinstance(inner, list) and inner and all(isinstance(item, dict) for item in inner):
                for number, item in enumerate(inner, start=1):
                    yield number, item, "records"
            else:
                yield 1, obj, "object"
            return
        if first != "[":
            raise ReaderError("The JSON file holds a single value, not a list of records.")
        text.pos += 1
        number = 0
        kind: str | None = None
        char = text.peek()
        if char == "]":
            text.pos += 1
        else:
            while True:
                if char is None:
                    raise text.fail("the file ends before the array is closed with ].")
                number += 1
                item = text.value(decoder)
                item_kind = _kind(item)
                if kind is None:
                    kind = item_kind
                elif item_kind != kind:
                    raise ReaderError(
                        f"Item {number} of the array is {'an' if item_kind[0] in 'ao' else 'a'} "
                        f"{item_kind}, but the items before it are {kind}s."
                    )
                if stats is not None:
                    stats["bytes"] = text.raw.tell()
                yield (
                    number,
                    item,
                    {"object": "records", "array": "arrays", "value": "values"}[item_kind],
                )
                char = text.peek()
                if char == ",":
                    text.pos += 1
                    char = text.peek()
                    if char == "]":
                        raise text.fail(
                            "a comma before ] (trailing commas are not allowed in JSON)."
                        )
                    continue
                if char == "]":
                    text.pos += 1
                    break
                if char is None:
                    raise text.fail("the file ends before the array is closed with ].")
                raise text.fail(f"expected , or ] after item {number}, found '{char}'.")
        if text.peek() is not None:
            raise text.fail("unexpected text after the end of the JSON document.")
    finally:
        text.close()


def jsonl_elements(
    path: str | PathLike, pairs: DuplicateKeys | None, stats: dict | None = None
) -> Iterator[tuple[int, Any, str]]:
    encoding = json_encoding(path)
    decoder = _decoder(pairs)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        raise ReaderError(f"The file could not be opened ({exc.strerror or exc}).") from None
    number = 0
    try:
        # newline="": lines end at \n, \r\n or \r only, never at U+2028 or other characters
        # str.splitlines() would split on, which valid JSON strings may contain.
        handle = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        while True:
            try:
                line = handle.readline()
            except UnicodeDecodeError:
                line_number, _ = undecodable_at(path, encoding)
                raise ReaderError(
                    f"Line {line_number}: the file is not valid {encoding.upper()} text. "
                    "JSON Lines files must be saved as UTF-8."
                ) from None
            if not line:
                return
            number += 1
            if number == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            try:
                item = decoder.decode(line)
            except json.JSONDecodeError as exc:
                raise ReaderError(
                    f"Line {number}, column {exc.colno}: invalid JSON ({exc.msg})."
                ) from None
            except _Constant as exc:
                raise ReaderError(
                    f"Line {number}: {exc.name} is not allowed in JSON; write the value as null or as a string."
                ) from None
            except (InvalidOperation, ValueError, OverflowError) as exc:
                raise ReaderError(f"Line {number}: {_number_error(exc)}.") from None
            if not isinstance(item, dict):
                raise ReaderError(
                    f"Line {number}: each line of a JSON Lines file must be an object {{...}}."
                )
            if stats is not None:
                stats["bytes"] = raw.tell()
            yield number, item, "records"
    finally:
        raw.close()


# --- records to cells ----------------------------------------------------------------------


def _json_text(value: Any) -> str:
    """A nested array as compact JSON text, with Decimals written as the numbers they are."""
    if isinstance(value, list):
        return "[" + ",".join(_json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{json.dumps(key)}:{_json_text(item)}" for key, item in value.items())
            + "}"
        )
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def record_flatten(record: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in record.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            yield from record_flatten(value, path)
        elif isinstance(value, dict):
            yield path, None
        elif isinstance(value, list):
            yield path, _json_text(value)
        else:
            yield path, value


def cell_value(value: Any) -> Any:
    if isinstance(value, list | dict):
        return _json_text(value)
    return value
