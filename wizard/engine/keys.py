"""A compact set of the natural keys seen so far in one file.

A Python ``set`` of a million key strings costs ~100 MB; the import must stay flat in memory,
so keys are reduced to 64-bit hashes held in an open-addressing table of machine integers
(8 bytes a slot, kept at most half full). A hash collision would report a false in-file
duplicate with odds of about n²/2⁶⁴ — for 10 million keys, one in 300,000 files.
"""

from __future__ import annotations

from array import array

_EMPTY = 0


def key_hash(key: tuple) -> int:
    # Python's string hash is keyed SipHash: well spread, 64 bits, and stable within a run.
    return hash(key) or 1  # 0 marks an empty slot


class SeenKeys:
    def __init__(self, capacity: int = 1 << 14):
        self._slots = array("q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, key: tuple) -> bool:
        """Record the key; False when it was already there."""
        return self.add_hash(key_hash(key))

    def add_hash(self, h: int) -> bool:
        """``add`` for a caller that has the key's hash already (``key_hash``)."""
        slots, mask = self._slots, self._mask
        i = h & mask
        while True:
            current = slots[i]
            if current == _EMPTY:
                slots[i] = h
                self._count += 1
                if self._count * 2 > mask:
                    self._grow()
                return True
            if current == h:
                return False
            i = (i + 1) & mask

    def __contains__(self, key: tuple) -> bool:
        h = key_hash(key)
        slots, mask = self._slots, self._mask
        i = h & mask
        while True:
            current = slots[i]
            if current == _EMPTY:
                return False
            if current == h:
                return True
            i = (i + 1) & mask

    def reserve(self, keys: int | None) -> None:
        """Make room for ``keys`` keys at once (an estimate; None or 0 does nothing): each
        growth rehashes every key in Python, which a known row count makes needless. At most
        ~16 MB is taken up front on the estimate's word."""
        if not keys:
            return
        capacity = self._mask + 1
        while capacity < (1 << 21) and capacity < 2 * keys + 2:
            capacity *= 2
        if capacity > self._mask + 1:
            self._grow(capacity)

    def _grow(self, capacity: int | None = None) -> None:
        old = self._slots
        capacity = capacity or (self._mask + 1) * 2
        self._slots = slots = array("q", bytes(8 * capacity))
        self._mask = mask = capacity - 1
        for h in old:
            if h != _EMPTY:
                i = h & mask
                while slots[i] != _EMPTY:
                    i = (i + 1) & mask
                slots[i] = h
