"""The keys seen so far in one file: exact, in memory that barely grows with the file.

A Python ``set`` of a million key tuples costs ~100 MB. Here a key costs ~30 bytes of memory:
a slot of a 32-bit open-addressing table (kept at most half full) holding the key's number,
and per number the key's 64-bit hash and where the key itself was written in a spill file (a
temporary file; its first megabyte stays in memory, so a small run never touches the disk).

Two keys are one key only when they are equal, as in a ``set``: when a hash matches, the earlier
key is read back and compared, so a hash collision never merges two different keys. Reads
happen only on a match (a row repeating a key, or a collision), from the page cache.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from array import array
from itertools import accumulate

_EMPTY = 0  # a free slot; a used one holds its key's number + 1
_PICKLED = 0x80  # a pickle's first byte, never the first byte of UTF-8 text
PENDING = 4096  # keys written to the spill together
STRIDE = 256  # one key in this many has its spill offset kept; the others sum lengths from it
_LONG = 255


def key_hash(key: tuple) -> int:
    # Python's hash is keyed SipHash: well spread, 64 bits, stable within a run. Equal keys
    # (1 and 1.0, two equal Decimals) hash alike, so equality decides as in a set.
    return hash(key) or 1


def _encode(key: tuple) -> bytes:
    part = key[0] if len(key) == 1 else None
    if type(part) is str:  # the common key: one text
        return part.encode("utf-8", "surrogatepass")
    return pickle.dumps(key, pickle.HIGHEST_PROTOCOL)


def _decode(data: bytes) -> tuple:
    if data[:1] and data[0] == _PICKLED:
        return pickle.loads(data)
    return (data.decode("utf-8", "surrogatepass"),)


class Spill:
    """Append-only records, read back by offset and length: a temporary file once they pass
    ``BUFFER`` bytes (its pages are the kernel's cache, not this process's memory)."""

    BUFFER = 1 << 20

    def __init__(self):
        self._file = None
        self._buffer = bytearray()
        self._flushed = 0  # bytes in the file; the buffer follows them

    def append(self, data: bytes) -> int:
        """Write ``data``; its offset."""
        offset = self._flushed + len(self._buffer)
        self._buffer += data
        if len(self._buffer) >= self.BUFFER:
            self._flush()
        return offset

    @property
    def end(self) -> int:
        return self._flushed + len(self._buffer)

    def read(self, offset: int, length: int) -> bytes:
        if offset >= self._flushed:
            start = offset - self._flushed
            return bytes(self._buffer[start : start + length])
        if offset + length > self._flushed:
            self._flush()  # the record straddles the file's end and the buffer
        return os.pread(self._file.fileno(), length, offset)

    def _flush(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115
        view = memoryview(self._buffer)
        while view:
            view = view[self._file.write(view) :]
        view.release()
        self._flushed += len(self._buffer)
        self._buffer = bytearray()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buffer = bytearray()
        self._flushed = 0


class SeenKeys:
    """A set of key tuples that also numbers them: 0, 1, 2... in the order first seen."""

    def __init__(self, capacity: int = 1 << 14):
        self._slots = array("i", bytes(4 * capacity))
        self._mask = capacity - 1
        self._hashes = array("q")  # per key number
        # Where each key is in the spill: its record's length (one byte; ``_LONG`` and
        # ``_long`` for longer ones) and the offset of every ``STRIDE``-th key.
        self._lengths = bytearray()
        self._long: dict[int, int] = {}
        self._marks = array("q")
        self._spill = Spill()
        self._held: dict[int, tuple] = {}  # a key pickle refused (never so far): kept as is
        self._pending: list[tuple] = []  # keys added since the spill was last written

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, key: tuple) -> bool:
        """Record the key; False when it was already there."""
        return self.index(key, key_hash(key)) < 0

    def __contains__(self, key: tuple) -> bool:
        return self.find(key) >= 0

    def find(self, key: tuple, h: int | None = None) -> int:
        """The key's number, or -1."""
        if h is None:
            h = key_hash(key)
        slots, mask, hashes = self._slots, self._mask, self._hashes
        i = h & mask
        while True:
            number = slots[i]
            if number == _EMPTY:
                return -1
            number -= 1
            if hashes[number] == h and self._key(number) == key:
                return number
            i = (i + 1) & mask

    def index(self, key: tuple, h: int) -> int:
        """The key's number; a key not seen before is added and given as ``~number``
        (negative), so one probe both looks up and adds (most keys are new). ``h`` is
        ``key_hash(key)``, which the caller has at hand. Runs once per row: inlined."""
        slots, mask, hashes = self._slots, self._mask, self._hashes
        i = h & mask
        while True:
            number = slots[i]
            if number == _EMPTY:
                break
            number -= 1
            if hashes[number] == h and self._key(number) == key:
                return number
            i = (i + 1) & mask
        number = len(hashes)
        slots[i] = number + 1
        hashes.append(h)
        pending = self._pending
        pending.append(key)
        if len(pending) >= PENDING:
            self._write()
        if (number + 1) * 2 > mask:
            self._grow((mask + 1) * 2)
        return ~number

    def _write(self) -> None:
        """Write the keys added since the last call to the spill, encoded in one go (cheaper
        than one at a time, and ``index`` runs once per row)."""
        pending, spill = self._pending, self._spill
        if not pending:
            return
        first = len(self._lengths)
        data = [
            k[0].encode("utf-8", "surrogatepass") if len(k) == 1 and type(k[0]) is str else None
            for k in pending
        ]
        if None in data:
            for n, key in enumerate(pending):
                if data[n] is None:
                    try:
                        data[n] = _encode(key)
                    except Exception:  # noqa: BLE001 - an unpicklable key part: kept as is
                        self._held[first + n] = key
                        data[n] = b""
        sizes = list(map(len, data))
        if max(sizes) < _LONG:
            self._lengths += bytes(sizes)
        else:
            for n, size in enumerate(sizes):
                if size >= _LONG:
                    self._long[first + n] = size
            self._lengths += bytes(min(size, _LONG) for size in sizes)
        start = -first % STRIDE  # the first key of this lot whose offset is kept
        if start < len(sizes):
            offsets = list(accumulate(sizes, initial=spill.end))
            self._marks.extend(offsets[start : len(sizes) : STRIDE])
        spill.append(b"".join(data))
        self._pending = []

    def _key(self, number: int) -> tuple:
        lengths = self._lengths
        if number >= len(lengths):
            return self._pending[number - len(lengths)]
        if self._held and number in self._held:
            return self._held[number]
        # The nearest kept offset at or before the key, plus the lengths of the keys between.
        base = number - number % STRIDE
        between = lengths[base:number]
        offset = self._marks[number // STRIDE] + sum(between)
        if _LONG in between:
            offset += sum(self._long.get(m, _LONG) - _LONG for m in range(base, number))
        size = lengths[number]
        if size == _LONG:
            size = self._long[number]
        return _decode(self._spill.read(offset, size))

    def reserve(self, keys: int | None) -> None:
        """Make room for ``keys`` keys at once (an estimate; None or 0 does nothing): each
        growth rehashes every key in Python, which a known row count makes needless. At most
        ~16 MB is taken up front on the estimate's word."""
        if not keys:
            return
        capacity = self._mask + 1
        while capacity < (1 << 22) and capacity < 2 * keys + 2:
            capacity *= 2
        if capacity > self._mask + 1:
            self._grow(capacity)

    def _grow(self, capacity: int) -> None:
        self._slots = slots = array("i", bytes(4 * capacity))
        self._mask = mask = capacity - 1
        for number, h in enumerate(self._hashes, 1):
            i = h & mask
            while slots[i] != _EMPTY:
                i = (i + 1) & mask
            slots[i] = number

    def close(self) -> None:
        """Let go of the spill file now rather than when the run is collected."""
        self._spill.close()
