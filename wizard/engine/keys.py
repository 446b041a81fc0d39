"""The keys seen so far in one file: exact, in memory that stays the same however long the file.

A Python ``set`` of a million key tuples costs ~100 MB. Here the keys are numbered in
generations of ``GENERATION`` keys. The newest generation is an in-memory open-addressing table
(kept at most half full) whose slots hold a key's 64-bit hash and its 32-bit number; each key
itself is written to a spill file (a temporary file; its first megabyte stays in memory, so a
small run never touches the disk), found by a byte of length per key and an offset every
``STRIDE`` keys. A full generation is frozen: its table and its keys' offsets are written to
another temporary file, read back with ``os.pread`` (not mmap: mapped pages count in the
process's memory), and its hashes go into a Bloom filter (16 bits a key) that tells a new key
from an old one without reading anything for ~99.9 % of new keys. What stays in memory: one
generation's table (3 MB) and the filter (2 bytes a key: 2 MB for a million), so a
million-row file needs what a 100k-row file does, and ~2 MB more.

Two keys are one key only when they are equal, as in a ``set``: when a hash matches, the earlier
key is read back and compared, so a hash collision never merges two different keys. Reads
happen only on a match (a row repeating a key, or a collision), from the page cache.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
from array import array
from itertools import accumulate

_EMPTY = 0  # a free slot
_LOW = 18  # a slot's low bits: its key's number within the generation + 1
_NUMBER = (1 << _LOW) - 1
_HIGH = -(1 << _LOW)  # the rest: the key's hash, compared before the key itself is read
assert (_LOW, _NUMBER, _HIGH) == (18, 262143, -262144)  # as ``SeenKeys.index`` writes them
_PICKLED = 0x80  # a pickle's first byte, never the first byte of UTF-8 text
PENDING = 4096  # keys written to the spill together
STRIDE = 256  # one key in this many has its spill offset kept; the others sum lengths from it
_LONG = 255
GENERATION = 1 << 17  # keys per generation (a power of two): a 100k-row file stays in one
BLOOM_BITS = 16  # filter bits per frozen key (two bits set per key: ~1.4 % false positives)
_PROBE = 16  # frozen slots read at once (a probe at half load seldom runs past it)
GROUP = 16  # frozen generations probed with one read (2M keys); a group is written again
# whole when a generation joins it, so its size bounds that work (~0.07 s for the 16th)
_CHUNK = 1 << 14  # slots of the frozen tables written again at a time when one is added


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


def _write_all(file, data) -> int:
    """Write ``data`` (bytes or an array) whole; its size in bytes."""
    view = memoryview(data).cast("B")
    size = len(view)
    while view:
        view = view[file.write(view) :]
    view.release()
    return size


class Pages:
    """Blocks appended to a temporary file (made at the first) and read back with
    ``os.pread``: its pages are the kernel's cache, not this process's memory. Every file
    this module and ``Repeats`` keep is one of these."""

    def __init__(self):
        self._file = None
        self.end = 0

    def append(self, *blocks) -> int:
        """Write the blocks one after the other; where the first starts."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115
        start = self.end
        for block in blocks:
            self.end += _write_all(self._file, block)
        return start

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._file.fileno(), length, offset)

    def write(self, offset: int, data: bytes) -> None:
        os.pwrite(self._file.fileno(), data, offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.end = 0


class Spill:
    """Append-only records, read back by offset and length: kept in memory up to ``BUFFER``
    bytes, then in ``Pages``."""

    BUFFER = 1 << 20

    def __init__(self):
        self._pages = Pages()  # the records written out; the buffer follows them
        self._buffer = bytearray()

    def append(self, data: bytes) -> int:
        """Write ``data``; its offset."""
        offset = self._pages.end + len(self._buffer)
        self._buffer += data
        if len(self._buffer) >= self.BUFFER:
            self._flush()
        return offset

    @property
    def end(self) -> int:
        return self._pages.end + len(self._buffer)

    def read(self, offset: int, length: int) -> bytes:
        flushed = self._pages.end
        if offset >= flushed:
            start = offset - flushed
            return bytes(self._buffer[start : start + length])
        if offset + length > flushed:
            self._flush()  # the record straddles the file's end and the buffer
        return self._pages.read(offset, length)

    def _flush(self) -> None:
        self._pages.append(self._buffer)
        self._buffer = bytearray()

    def close(self) -> None:
        self._pages.close()
        self._buffer = bytearray()


class _Group:
    """Up to ``GROUP`` frozen generations' tables, side by side in one temporary file."""

    def __init__(self):
        self.pages = Pages()
        self.bases: list[int] = []  # each generation's first key's number

    def read(self, start: int, count: int) -> bytes:
        """``count`` 64-bit words from word ``start``."""
        return self.pages.read(8 * start, 8 * count)

    def close(self) -> None:
        self.pages.close()


class SeenKeys:
    """A set of key tuples that also numbers them: 0, 1, 2... in the order first seen."""

    def __init__(self, capacity: int = 1 << 14):
        self._generation = GENERATION
        assert self._generation <= _NUMBER, "a key's number must fit a slot's low bits"
        capacity = min(capacity, 2 * self._generation)
        # Per slot, one word (0: free): the key's hash, its low ``_LOW`` bits replaced by its
        # number within the generation + 1. The slot's position is read from the hash's next
        # bits, so a word says where it belongs (the table can grow from the words alone).
        self._words = array("q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._base = 0  # the number of the live generation's first key
        self._count = 0  # keys in the live generation
        # Where each live key is in the spill: its record's length (one byte; ``_LONG`` and
        # ``_long`` for longer ones) and the offset of every ``STRIDE``-th key.
        self._lengths = bytearray()
        self._long: dict[int, int] = {}
        self._marks = array("q")
        self._spill = Spill()
        self._held: dict[int, tuple] = {}  # a key pickle refused (never so far): kept as is
        self._pending: list[tuple] = []  # keys added since the spill was last written
        # Frozen generations: their tables (``_table_add``) and where their keys' spill
        # offsets are in the pages file.
        self._groups: list[_Group] = []
        self._offsets: list[int] = []
        self._pages = Pages()
        self._bloom = bytearray()
        self._bloom_mask = 0
        self._expected = 0  # keys the file is expected to have (``reserve``)

    def __len__(self) -> int:
        return self._base + self._count

    def add(self, key: tuple) -> bool:
        """Record the key; False when it was already there."""
        return self.index(key, key_hash(key)) < 0

    def __contains__(self, key: tuple) -> bool:
        return self.find(key) >= 0

    def find(self, key: tuple, h: int | None = None) -> int:
        """The key's number, or -1."""
        if h is None:
            h = key_hash(key)
        words, mask, high = self._words, self._mask, h & _HIGH
        i = (h >> _LOW) & mask
        while True:
            word = words[i]
            if word == _EMPTY:
                break
            if word & _HIGH == high:
                number = self._base + (word & _NUMBER) - 1
                if self._key(number) == key:
                    return number
            i = (i + 1) & mask
        return self._frozen_find(key, h) if self._groups else -1

    def index(self, key: tuple, h: int) -> int:
        """The key's number; a key not seen before is added and given as ``~number``
        (negative), so one probe both looks up and adds (most keys are new). ``h`` is
        ``key_hash(key)``, which the caller has at hand. Runs once per row: inlined, with
        ``_LOW``, ``_HIGH`` and ``_NUMBER`` written as literals (a global costs a lookup)."""
        words, mask, base, high = self._words, self._mask, self._base, h & -262144
        i = (h >> 18) & mask
        while True:
            word = words[i]
            if not word:
                break
            if word & -262144 == high:
                number = base + (word & 262143) - 1
                if self._key(number) == key:
                    return number
            i = (i + 1) & mask
        if base:  # earlier generations: the filter first, their tables only when it says maybe
            bloom, bmask = self._bloom, self._bloom_mask
            x = (h >> 18) & bmask
            if bloom[x >> 3] >> (x & 7) & 1:
                x = (h >> 40) & bmask
                if bloom[x >> 3] >> (x & 7) & 1:
                    number = self._frozen_find(key, h)
                    if number >= 0:
                        return number
        number = self._count
        self._count = number + 1
        words[i] = high | (number + 1)
        pending = self._pending
        pending.append(key)
        if len(pending) >= PENDING:
            self._write()
        if (number + 1) * 2 > mask:  # half full: a full generation is frozen, else grown
            if number + 1 >= self._generation:
                self._freeze()
            else:
                self._grow((mask + 1) * 2)
        return ~(base + number)

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
                        self._held[self._base + first + n] = key
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
        if self._held and number in self._held:
            return self._held[number]
        number -= self._base
        if number < 0:
            return self._frozen_key(number + self._base)
        lengths = self._lengths
        if number >= len(lengths):
            return self._pending[number - len(lengths)]
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

    # --- frozen generations ------------------------------------------------------------------

    def _freeze(self) -> None:
        """Write the live generation's table to the frozen tables and its keys' offsets to the
        pages file, its hashes to the filter, and start an empty one."""
        self._write()
        words, lengths = self._words, self._lengths
        sizes = lengths
        if self._long:
            sizes = list(lengths)
            for n, size in self._long.items():
                sizes[n] = size
        offsets = array("q", accumulate(sizes, initial=self._marks[0]))
        self._offsets.append(self._pages.append(offsets))
        self._table_add(words)
        self._base += self._count
        self._bloom_add(words)
        capacity = 2 * self._generation
        self._words = array("q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._count = 0
        self._lengths = bytearray()
        self._long = {}
        self._marks = array("q")

    def _table_add(self, words: array) -> None:
        """The frozen tables are kept side by side, ``GROUP`` generations to a file: per slot
        (position), each generation's word in turn, so one read gets a probe's slots in every
        generation of a group (each read lets the other threads take the GIL; a read per
        generation measured slower). Adding a generation writes its group's file again, a
        chunk of slots at a time."""
        groups = self._groups
        if not groups or len(groups[-1].bases) == GROUP:
            groups.append(_Group())
        group = groups[-1]
        old, size = len(group.bases), len(words)
        new = old + 1
        pages = Pages()
        for start in range(0, size, _CHUNK):
            end = min(size, start + _CHUNK)
            out = array("q", bytes(8 * new * (end - start)))
            if old:
                before = array("q")
                before.frombytes(group.read(old * start, old * (end - start)))
                for column in range(old):
                    out[column::new] = before[column::old]
            out[old::new] = words[start:end]
            pages.append(out)
        group.close()
        group.pages = pages
        group.bases.append(self._base)

    def _bloom_add(self, table) -> None:
        """Put the keys of a frozen generation's table (``table``: its words) into the
        filter."""
        frozen = self._base
        bits = max(8, len(self._bloom) * 8)
        if bits < BLOOM_BITS * frozen:
            # Sized for the keys expected (``reserve``), else grown (filled again from every
            # frozen generation's table) as a power of two.
            while bits < BLOOM_BITS * max(frozen, self._expected):
                bits *= 2
            self._bloom = bytearray(bits // 8)
            self._bloom_mask = bits - 1
            for group in self._groups:
                width = len(group.bases)
                for start in range(0, len(table), _CHUNK):
                    words = array("q")
                    words.frombytes(group.read(width * start, width * _CHUNK))
                    self._bloom_fill(filter(None, words))
            return
        self._bloom_fill(filter(None, table))

    def _bloom_fill(self, hashes) -> None:
        bloom, bmask = self._bloom, self._bloom_mask
        for h in hashes:  # a hash or a word: the bits read are the same
            x = (h >> _LOW) & bmask
            bloom[x >> 3] |= 1 << (x & 7)
            x = (h >> 40) & bmask
            bloom[x >> 3] |= 1 << (x & 7)

    def _frozen_find(self, key: tuple, h: int) -> int:
        mask, high = 2 * self._generation - 1, h & _HIGH
        i = (h >> _LOW) & mask
        for group in self._groups:
            bases = group.bases
            width = len(bases)
            words = array("q")
            words.frombytes(group.read(width * i, width * min(_PROBE, mask + 1 - i)))
            end = len(words)
            for column, base in enumerate(bases):
                at = column
                while True:
                    if at >= end:  # a run of slots longer than the read: the rest one by one
                        number = self._frozen_probe(key, h, group, column, i + at // width)
                        if number >= 0:
                            return number
                        break
                    word = words[at]
                    if word == _EMPTY:
                        break
                    if word & _HIGH == high:
                        number = base + (word & _NUMBER) - 1
                        if self._key(number) == key:
                            return number
                    at += width
        return -1

    def _frozen_probe(self, key: tuple, h: int, group, column: int, position: int) -> int:
        width, mask, high = len(group.bases), 2 * self._generation - 1, h & _HIGH
        while True:
            position &= mask
            word = group.read(width * position + column, 1)
            word = int.from_bytes(word, sys.byteorder, signed=True)
            if word == _EMPTY:
                return -1
            if word & _HIGH == high:
                number = group.bases[column] + (word & _NUMBER) - 1
                if self._key(number) == key:
                    return number
            position += 1

    def _frozen_key(self, number: int) -> tuple:
        generation, local = divmod(number, self._generation)
        bounds = array("q")
        bounds.frombytes(self._pages.read(self._offsets[generation] + 8 * local, 16))
        return _decode(self._spill.read(bounds[0], bounds[1] - bounds[0]))

    # -----------------------------------------------------------------------------------------

    def reserve(self, keys: int | None) -> None:
        """Make room for ``keys`` keys at once (an estimate; None or 0 does nothing): each
        growth rehashes every key in Python, which a known row count makes needless. The live
        table is at most one generation's (1 MB); the filter is sized for the estimate."""
        if not keys:
            return
        self._expected = max(self._expected, keys)
        capacity = self._mask + 1
        while capacity < 2 * self._generation and capacity < 2 * keys + 2:
            capacity *= 2
        if capacity > self._mask + 1:
            self._grow(capacity)

    def _grow(self, capacity: int) -> None:
        old = self._words
        self._words = words = array("q", bytes(8 * capacity))
        self._mask = mask = capacity - 1
        for word in filter(None, old):
            i = (word >> _LOW) & mask
            while words[i] != _EMPTY:
                i = (i + 1) & mask
            words[i] = word

    def close(self) -> None:
        """Let go of the spill files now rather than when the run is collected."""
        self._spill.close()
        self._pages.close()
        for group in self._groups:
            group.close()
