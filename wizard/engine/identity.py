"""Which record each row stands for: its natural key, the fallback keys a resource declares
for rows whose key is blank (``Resource.fallback_keys``), numbers given in file order
(``Resource.numbering``: an order's lines), and rows that repeat a key already seen in the
same file (``Repeats``).

A row repeating an earlier row's key with the same values is one record, merged into it
("repeats merged", counted apart). A repeat whose values differ is a conflict, shown side by
side in the row log and settled by the run's ``repeats`` setting: ``fail`` (the default),
``first`` (the earliest row wins) or ``last`` (the latest row wins).
"""

from __future__ import annotations

import datetime as dt
import marshal
import pickle
import struct
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

from django.db import models

from business.resources import Resource
from wizard.engine.keys import Pages, Spill
from wizard.engine.validation import FieldPlan, Row
from wizard.engine.writing import bulk_update_changed
from wizard.models import ImportRow
from wizard.parsing import quote

S = ImportRow.Status
REPEATS = ("fail", "first", "last")
# The first row's values are kept (packed into a spill file) to name the differing columns of
# a conflict; past this many distinct keys they are not (packing costs ~2 µs a key), and a
# conflict names no column.
REPEAT_DETAIL_LIMIT = 50_000
PAGE = 1 << 17  # keys per page of ``Repeats``' arrays (13 bytes a key: 1.7 MB in memory)
_COLD = struct.Struct("=qii")  # a key's values hash, first row and flags in an earlier page
# A table at most this big (and a quarter of the file's rows) has its keys read once (one
# query, ~8 MB for 100,000 e-mails): each batch then looks up only the rows whose key is
# among them, not all 5,000 (100k contacts on SQLite: 0.25 s of lookups a run).
PRESENT_LIMIT = 100_000
NO_KEY = "none"
KEY_COUNT = "key:"  # run counts (checkpointed with the rest) of the rows each key recognised


def _label(field) -> str:
    text = str(field.label)
    return text[:1].lower() + text[1:]


@dataclass
class KeySet:
    """One way to recognise a record: the natural key, or one of its fallback keys."""

    name: str  # "email", "first_name + last_name + account": what summaries count it under
    words: str  # "first name + last name + account": what messages say
    value_names: tuple[str, ...]  # where the parsed values sit in ``row.values``
    attnames: tuple[str, ...]  # the model attributes (references resolved) to look it up by
    column: str  # the column a message about this key points at
    primary: bool
    # Whether the looked-up key is the key as read (no part is a reference resolved later).
    as_read: bool = False

    @property
    def count_name(self) -> str:
        return KEY_COUNT + self.name


class Repeats:
    """For each key of this file (numbered by the run's ``SeenKeys``): its first row, a hash
    of that row's values and flags, in arrays of machine integers (13 bytes a key, never a
    Python object per key), in pages of ``PAGE`` keys: the newest in memory, the earlier ones
    in a temporary file, read back (``os.pread``) only for a row repeating one of their keys.
    The first ``REPEAT_DETAIL_LIMIT`` keys' compared values are kept too, packed a batch at a
    time into a spill file (read back only to word a conflict): as tuples they kept their
    rows' cells alive, ~35 MB for 50,000 rows.
    """

    CREATED = 1  # the first row's record is one this run creates

    def __init__(self):
        self._page = PAGE
        self._base = 0  # the number of the live page's first key
        self._hashes = array("q")  # values hash; 0: no row yet
        self._rows = array("i")  # row numbers fit 31 bits (MAX_IMPORT_ROWS is millions)
        self._flags = bytearray()
        self._cold = Pages()  # each earlier page: its hashes, rows and flags
        self._detail = Spill()
        self._detail_at = array("q")  # per key number below the limit: offset (-1: none)
        self._detail_size = array("i")
        # Values put since the last ``detail_write``: packed together (cheaper than one by one).
        self._detail_numbers: list[int] = []
        self._detail_values: list[tuple] = []
        # Whether those numbers are consecutive, each key's first values (only new keys were
        # put since): ``detail`` then finds a key's values among them, or knows they are not
        # there, without packing them first.
        self._detail_ordered = True

    def first_or_put(
        self, number: int, values_hash: int, row: int, values: tuple, /
    ) -> tuple[int, int, int] | None:
        """(row number, values hash, flags) of the key's first row; when there is none yet,
        this row is put as the key's first, and None."""
        hashes = self._hashes
        local = number - self._base
        if local == len(hashes):  # the usual case: the key the table numbered last
            hashes.append(values_hash)
            self._rows.append(row)
            self._flags.append(0)
            if number < REPEAT_DETAIL_LIMIT:
                self._detail_numbers.append(number)
                self._detail_values.append(values)
            if local + 1 == self._page:
                self._turn()
            return None
        if local < 0:
            found = self._cold_get(number)
            if found is not None:
                return found
        elif local < len(hashes) and hashes[local]:
            return self._rows[local], hashes[local], self._flags[local]
        self.put(number, values_hash=values_hash, row=row, values=values)
        return None

    def firsts_put(
        self, numbers: list[int], hashes: list[int], rows: list[int], values: list[tuple]
    ) -> None:
        """``first_or_put`` of keys that were new (numbered in this order, none put since):
        in one go where they follow the last key put within the live page, as they do."""
        if not numbers:
            return
        count, live = len(numbers), self._hashes
        first = numbers[0]
        if (
            first - self._base == len(live)
            and len(live) + count < self._page
            and numbers == list(range(first, first + count))
        ):
            live.extend(hashes)
            self._rows.extend(rows)
            self._flags.extend(bytes(count))
            kept = min(count, REPEAT_DETAIL_LIMIT - first)
            if kept > 0:
                self._detail_numbers += numbers[:kept] if kept < count else numbers
                self._detail_values += values[:kept] if kept < count else values
            return
        for number, values_hash, row, parts in zip(numbers, hashes, rows, values, strict=True):
            self.first_or_put(number, values_hash, row, parts)

    def put(self, number: int, *, values_hash: int, row: int, values: tuple | None) -> None:
        while number >= self._base + len(self._hashes):  # a key numbered past the last put
            more = min(number + 1 - self._base, self._page) - len(self._hashes)
            self._hashes.extend(array("q", bytes(8 * more)))
            self._rows.extend(array("i", bytes(4 * more)))
            self._flags.extend(bytes(more))
            if len(self._hashes) == self._page:
                self._turn()
        local = number - self._base
        if local >= 0:
            self._hashes[local] = values_hash
            self._rows[local] = row
            self._flags[local] = 0
        else:
            self._cold.write(16 * number, _COLD.pack(values_hash, row, 0))
        if values is not None and number < REPEAT_DETAIL_LIMIT:
            self._detail_numbers.append(number)
            self._detail_values.append(values)
            self._detail_ordered = False

    def flag(self, number: int, flag: int) -> None:
        local = number - self._base
        if local >= 0:
            if local < len(self._hashes) and self._hashes[local]:
                self._flags[local] |= flag
        elif number >= 0:
            values_hash, row, flags = _COLD.unpack(self._cold.read(16 * number, 16))
            if values_hash:
                self._cold.write(16 * number, _COLD.pack(values_hash, row, flags | flag))

    def _turn(self) -> None:
        """The live page is full: write it after the earlier ones, a record of 16 bytes a key
        (``_COLD``: one read gets all three), and start an empty one."""
        records = array("i", bytes(16 * len(self._hashes)))
        halves = array("i", self._hashes.tobytes())  # each hash as two 32-bit halves
        records[0::4] = halves[0::2]
        records[1::4] = halves[1::2]
        records[2::4] = self._rows
        records[3::4] = array("i", iter(self._flags))  # (bytes would be read as raw ints)
        self._cold.append(records)
        self._base += len(self._hashes)
        self._hashes = array("q")
        self._rows = array("i")
        self._flags = bytearray()

    def _cold_get(self, number: int) -> tuple[int, int, int] | None:
        values_hash, row, flags = _COLD.unpack(self._cold.read(16 * number, 16))
        if not values_hash:
            return None
        return row, values_hash, flags

    def detail(self, number: int) -> tuple | None:
        """The compared values of the key's first row, when kept."""
        numbers = self._detail_numbers
        if numbers:
            if not self._detail_ordered:
                self.detail_write()
            elif 0 <= number - numbers[0] < len(numbers):
                return self._detail_values[number - numbers[0]]
            # Otherwise the key's values are written already: packing the batch's pending
            # values for each conflict (1 % of a file's rows, say) cost more than all the rest.
        at = self._detail_at
        if number < 0 or number >= len(at) or at[number] < 0:
            return None
        return _unpack(self._detail.read(at[number], self._detail_size[number]))

    def detail_write(self) -> None:
        """Pack the values put since the last call into the spill file, in one go."""
        numbers, values = self._detail_numbers, self._detail_values
        if not numbers:
            return
        self._detail_numbers, self._detail_values = [], []
        self._detail_ordered = True
        records = _pack_many(values)
        at, size = self._detail_at, self._detail_size
        top = max(numbers) + 1
        if top > len(at):
            at.extend(array("q", [-1]) * (top - len(at)))
            size.extend(array("i", bytes(4 * (top - len(size)))))
        if records is not None:
            data, sizes = records
            offsets = array("q", accumulate(sizes, initial=self._detail.end))
            self._detail.append(data)
            first = numbers[0]
            if numbers == list(range(first, first + len(numbers))):  # new keys, in order
                at[first : first + len(numbers)] = offsets[:-1]
                size[first : first + len(numbers)] = array("i", sizes)
                return
            for number, offset, length in zip(numbers, offsets, sizes, strict=False):
                at[number] = offset
                size[number] = length
            return
        for number, parts in zip(numbers, values, strict=True):
            try:
                data = _pack(parts)
            except Exception:  # noqa: BLE001 - a value pickle refuses: the conflict names no column
                at[number] = -1
                continue
            at[number] = self._detail.append(data)
            size[number] = len(data)


# How the compared values are packed: marshal where it can (~4x faster than pickle, which
# spends ~4 µs on a date), each date as a 1-tuple of its ordinal (no compared value is a
# tuple on that path); pickle for anything else.
_MARSHAL, _DATES, _PICKLE = b"m", b"d", b"p"
_PLAIN = frozenset({str, int, float, bool, type(None)})
_PLAIN_DATES = _PLAIN | {dt.date}
_TO_ORDINAL = dt.date.toordinal


def _pack(values: tuple) -> bytes:
    kinds = set(map(type, values))
    if kinds <= _PLAIN:
        return _MARSHAL + marshal.dumps(values)
    if kinds <= _PLAIN_DATES:
        dated = tuple((v.toordinal(),) if type(v) is dt.date else v for v in values)
        return _DATES + marshal.dumps(dated)
    return _PICKLE + pickle.dumps(values, pickle.HIGHEST_PROTOCOL)


def _pack_many(rows: list[tuple]) -> tuple[bytes, list[int]] | None:
    """The records ``_pack`` gives each row, one after the other, and their sizes; None when
    some row needs pickle (packed one by one) or the rows differ in length."""
    if len(set(map(len, rows))) == 1:  # the usual batch: each column's types, one pass
        columns = list(zip(*rows, strict=True))
        found = [set(map(type, column)) for column in columns]
        kinds = set().union(*found)
    else:
        columns = None
        kinds = set(map(type, chain.from_iterable(rows)))
    if kinds <= _PLAIN:
        kind = _MARSHAL
    elif kinds <= _PLAIN_DATES and columns is not None:
        kind = _DATES
        for n, column in enumerate(columns):
            if found[n] == {dt.date}:  # every date: 1-tuples of ordinals, in C
                columns[n] = zip(map(_TO_ORDINAL, column))
            elif dt.date in found[n]:
                columns[n] = [(v.toordinal(),) if type(v) is dt.date else v for v in column]
        rows = zip(*columns, strict=True)
    else:
        return None
    blobs = list(map(marshal.dumps, rows))
    # Each record is its kind's byte and its marshal: joined with the byte, led by one more.
    return kind + kind.join(blobs), list(map((1).__add__, map(len, blobs)))


def _unpack(data: bytes) -> tuple:
    kind, body = data[:1], data[1:]
    if kind == _MARSHAL:
        return marshal.loads(body)
    if kind == _DATES:
        fromordinal = dt.date.fromordinal
        return tuple(fromordinal(v[0]) if type(v) is tuple else v for v in marshal.loads(body))
    return pickle.loads(body)


def _values_hash(parts: tuple) -> int:
    try:
        return hash(parts) or 1
    except TypeError:  # a JSON object's dict
        return hash(repr(parts)) or 1


def _reader(names: Sequence[str]):
    """An ``itemgetter`` reading ``names`` out of a row's values as a tuple in one C call, or
    None where it would not give a tuple (fewer than two names)."""
    return itemgetter(*names) if len(names) > 1 else None


class Identity:
    """Keys, numbering and repeats for one run (see the module's docstring)."""

    def __init__(self, run, plans: Sequence[FieldPlan]):
        self.run = run
        resource: type[Resource] = run.resource
        self.resource = resource
        self.policy = getattr(run.settings, "repeats", "fail") or "fail"
        by_name = {p.name: p for p in plans}
        meta = resource.model._meta
        numbering = resource.numbering
        self.numbered: str | None = None  # the attname numbers are given under
        self.number_within: str | None = None
        self.number_constant = False
        if numbering is not None and numbering.within in by_name:
            plan = by_name.get(numbering.field)
            if plan is None or plan.constant is None:
                self.numbered = meta.get_field(
                    resource.get_field(numbering.field).model_attr
                ).attname
                self.number_within = by_name[numbering.within].attname
                self.counters: dict[Any, int] = {}
            else:
                self.number_constant = True
        self.numbering = numbering

        def keyset(fields: Sequence[str], primary: bool) -> KeySet | None:
            names, attnames, labels = [], [], []
            for name in fields:
                plan = by_name.get(name)
                field = resource.get_field(name)
                attname = meta.get_field(field.model_attr).attname
                if plan is not None:
                    names.append(plan.attname)
                elif self.numbered == attname:
                    names.append(attname)
                else:
                    return None
                attnames.append(attname)
                labels.append(_label(field))
            first = by_name.get(fields[0])
            column = first.column if first is not None else str(resource.get_field(fields[0]).label)
            return KeySet(
                name=" + ".join(fields),
                words=" + ".join(labels),
                value_names=tuple(names),
                attnames=tuple(attnames),
                column=column,
                primary=primary,
                as_read=names == attnames,
            )

        sets = [keyset(resource.key, True)]
        sets += [keyset(fields, False) for fields in resource.fallback_keys]
        self.keysets: list[KeySet] = [k for k in sets if k is not None]
        self.all_words = [
            " + ".join(_label(resource.get_field(n)) for n in fields)
            for fields in (resource.key, *resource.fallback_keys)
        ]
        # Repeats are compared on everything but the natural key's own fields (equal by
        # definition, up to the key's normalising). A fallback key's fields are compared too:
        # two rows with one e-mail and two different names are a conflict, not one record.
        key_names = {n for k in self.keysets if k.primary for n in k.value_names}
        self.compare = [p.attname for p in plans if p.attname not in key_names]
        self.compare_plans = {p.attname: p for p in plans}
        # The run's table of this file's keys numbers them for ``Repeats``. It holds the
        # fallback keys too, led by their key set's name: no natural key equals one, so
        # "is this natural key in the file" (``ImportRun.pending_keys``) reads it as before.
        self.keys = run.seen[resource.name]
        self.keys.reserve(getattr(run, "row_estimate", None))
        self.repeats = Repeats()
        # Key numbers of the batch's keyed rows, for ``after`` (read where the last repeat wins).
        self.numbers: dict[int, int] = {}
        self.compare_take = _reader(self.compare)
        self.counting = True
        # Per key set: the keys in the table when the run started (``_present_keys``).
        self._present: dict[str, set[tuple] | None] = {}
        self.present_trusted = True

    # --- per batch, after parsing ------------------------------------------------------------

    def check(self, rows: list[Row], *, replay: bool = False) -> None:
        """Number, key and look for repeats, in file order.

        ``replay``: rows a resumed run skips (their counts are in the checkpoint already) are
        only keyed and numbered again, so what follows sees them.

        Every row of a file passes here, so the loop reads the keys and values itself (no
        call per row but the table's) and counts in local integers.
        """
        self.counting = counting = not replay
        keysets = self.keysets
        # The natural key of one field, present, is the common case: read it directly.
        first = keysets[0] if keysets else None
        single = (
            first.value_names[0]
            if first is not None and first.primary and len(first.value_names) == 1
            else None
        )
        used = [0] * len(keysets)
        no_key = 0
        index = self.keys.index
        first_or_put = self.repeats.first_or_put
        # Keys new to the file (most rows): put together (``firsts_put``) before any lookup.
        new_numbers: list[int] = []
        new_hashes: list[int] = []
        new_rows: list[int] = []
        new_values: list[tuple] = []
        compare = self.compare
        take = self.compare_take
        numbered = self.numbered is not None
        last = self.policy == "last"
        in_batch: dict[int, Row] = {}
        numbers = self.numbers = {} if last and counting else None
        for row in rows:
            if row.errors:
                continue
            if numbered:
                self._number(row)
            values = row.values
            part = values.get(single) if single is not None else None
            if part is not None and part != "":
                keyset, key = first, (part,)
                used[0] += 1
            else:
                keyset, key = self._key(values, used)
                if key is None:
                    row.key = None
                    row.warn("", "", self._no_key_text())
                    no_key += 1
                    continue
            row.key = key
            row.keyset = keyset
            number = index(key, hash(key) or 1)  # keys.key_hash, inline: once per row
            # The values the row's repeats are compared on, and their hash (both inline).
            if take is not None:
                try:
                    parts = take(values)
                except KeyError:  # a parsed row has every name; anything else reads None
                    parts = tuple(map(values.get, compare))
            else:
                parts = tuple(map(values.get, compare))
            try:
                vh = hash(parts) or 1
            except TypeError:
                vh = _values_hash(parts)
            if number < 0:  # a key not seen before: this row is its first
                number = ~number
                new_numbers.append(number)
                new_hashes.append(vh)
                new_rows.append(row.number)
                new_values.append(parts)
                if last:
                    in_batch[number] = row
                    if numbers is not None:
                        numbers[row.number] = number
                continue
            if numbers is not None:
                numbers[row.number] = number
            if new_numbers:  # the key may be one of them
                self.repeats.firsts_put(new_numbers, new_hashes, new_rows, new_values)
                new_numbers, new_hashes, new_rows, new_values = [], [], [], []
            found = first_or_put(number, vh, row.number, parts)
            if found is None:
                if last:
                    in_batch[number] = row
                continue
            self._repeat(row, key, keyset, number, vh, parts, found, in_batch)
        self.repeats.firsts_put(new_numbers, new_hashes, new_rows, new_values)
        self.repeats.detail_write()  # the batch's first rows' values, packed together
        if counting:
            counts = self.run.counts
            for keyset, n in zip(keysets, used, strict=True):
                if n:
                    counts[keyset.count_name] += n
            if no_key:
                counts[KEY_COUNT + NO_KEY] += no_key

    def _key(self, values: dict[str, Any], used: list[int]) -> tuple[KeySet | None, tuple | None]:
        """The first key set whose parts are all there, and the key it reads (a fallback key
        is prefixed with its name); ``used`` counts it."""
        for position, keyset in enumerate(self.keysets):
            key = tuple(map(values.get, keyset.value_names))
            if None in key or "" in key:
                continue
            used[position] += 1
            if keyset.primary:
                return keyset, key
            return keyset, (keyset.name, *key)
        return None, None

    def _no_key_text(self) -> str:
        words = self.all_words
        listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])}, or {words[-1]}"
        return f"no key: will be created as new (no {listed})"

    def _number(self, row: Row) -> None:
        values = row.values
        within = values.get(self.number_within)
        if within is None or within == "":
            return
        given = values.get(self.numbered)
        last = self.counters.get(within, 0)
        if given is None or given == "":
            values[self.numbered] = last + 1
            self.counters[within] = last + 1
        elif given > last:
            self.counters[within] = given

    def _repeat(
        self,
        row: Row,
        key: tuple,
        keyset: KeySet,
        number: int,
        vh: int,
        parts: tuple,
        found: tuple[int, int, int],
        in_batch: dict[int, Row],
    ) -> None:
        """A row whose key an earlier row of the file has (``found``: that row's number,
        values hash and flags)."""
        first_row, first_hash, flags = found
        if first_hash == vh:
            row.status = S.MERGED
            if self.counting:
                self.run.counts["repeats_merged"] += 1
            return
        if self.counting:
            self.run.counts["repeats_conflicting"] += 1
        if self.number_constant and keyset.primary:
            # A constant number gives every row of a group the same key: not a repeat but a
            # numbering mistake, said as such.
            self._constant_number(row, key, first_row)
            return
        earlier = self.repeats.detail(number)
        differs = self._differences(earlier, parts)
        shown = ", ".join(str(part) for part in key[0 if keyset.primary else 1 :])
        head = f"{keyset.words} {quote(shown)} is also on row {first_row}"
        if self.policy == "fail":
            self._tell(
                row,
                keyset,
                head,
                differs,
                "(choose which row wins: repeats first or last)",
                row.error,
            )
            return
        if self.policy == "first":
            row.status = S.MERGED
            self._tell(
                row,
                keyset,
                head,
                differs,
                f"(kept row {first_row}'s values: repeats first)",
                row.warn,
            )
            return
        # last: this row's values win from now on.
        self._tell(row, keyset, head, differs, "(this row's values win: repeats last)", row.warn)
        self.repeats.put(number, values_hash=vh, row=row.number, values=parts)
        self.repeats.flag(number, flags)
        before = in_batch.get(number)
        in_batch[number] = row
        if before is not None:
            # The earlier row is in this same batch and not written yet: it simply gives way.
            before.status = S.MERGED
            return
        row.extra = {**(row.extra or {}), "repeat_last": bool(flags & Repeats.CREATED)}

    def _constant_number(self, row: Row, key: tuple, first_row: int) -> None:
        numbering = self.numbering
        number_field = self.resource.get_field(numbering.field)
        within_field = self.resource.get_field(numbering.within)
        names = list(self.resource.key)
        within = key[names.index(numbering.within)]
        number = key[names.index(numbering.field)]
        row.error(
            str(number_field.label),
            number,
            f"{within_field.label.lower()} {quote(within)} has more than one "
            f"{_label(number_field)} {number} (first on row {first_row}): {number_field.label} "
            f"is set to {number} for every row. Leave {number_field.label} unmapped to number "
            f"the rows of each {_label(within_field)} in file order.",
        )

    def _differences(self, earlier: tuple | None, parts: tuple) -> list[tuple[FieldPlan, Any, Any]]:
        if earlier is None:
            return []
        plans = self.compare_plans
        return [
            (plans[name], old, new)
            for name, old, new in zip(self.compare, earlier, parts, strict=True)
            if old != new
        ]

    def _tell(self, row, keyset, head, differs, tail, say) -> None:
        if not differs:
            say(keyset.column, "", f"{head} with other values {tail}")
            return
        for plan, old, new in differs:
            raw = _raw(row, plan)
            say(
                plan.column,
                raw,
                f"{head} with another {_label(plan.field)}: {quote(_shown(old))} there, "
                f"{quote(_shown(new))} here {tail}",
            )

    # --- per batch, after references are resolved ----------------------------------------------

    def existing(self, rows: list[Row], fields: Sequence[str]) -> None:
        """Set ``row.existing`` from one query per key set used in the batch."""
        from wizard.engine.matching import existing_lookup

        run = self.run
        by_set: dict[int, tuple[KeySet, list[Row], list[tuple]]] = {}
        merged = S.MERGED
        for row in rows:
            if row.errors or row.key is None or row.status == merged:
                continue
            keyset = row.keyset
            group = by_set.get(id(keyset))
            if group is None:
                group = by_set[id(keyset)] = (keyset, [], [])
            group[1].append(row)
            if keyset.as_read:
                group[2].append(row.key if keyset.primary else row.key[1:])
            else:
                # Read again: its references are resolved by now (account_id).
                group[2].append(tuple(map(row.values.get, keyset.attnames)))
        for keyset, group, keys in by_set.values():
            wanted = keys
            present = self._present_keys(keyset)
            if present is not None:
                # Only keys that were there, and a 'last' repeat's (its record is this run's).
                wanted = [
                    key
                    for key, row in zip(keys, group, strict=True)
                    if key in present or (row.extra and row.extra.get("repeat_last"))
                ]
            found = existing_lookup(
                organization=run.organization,
                resource=self.resource,
                key_attnames=list(keyset.attnames),
                keys=wanted,
                fields=fields,
            )
            get = found.get
            for row, key in zip(group, keys, strict=True):
                row.existing = get(key)

    def _present_keys(self, keyset: KeySet) -> set[tuple] | None:
        """The keys of the organization's records when the run started, read once, or None
        where each batch asks the database: the table is big beside the file, or a record
        with a key not read then could appear with no error saying so. That is: the key set
        is not the natural key as read, or not unique in the database (someone else's record
        made meanwhile fails this run's insert, and the batch is written again row by row,
        ``present_trusted`` off), or the run itself makes records of this resource other
        than its rows (variants' parents, references to the same resource)."""
        if not self.present_trusted:
            return None
        if keyset.name in self._present:
            return self._present[keyset.name]
        found = None
        estimate = getattr(self.run, "row_estimate", None) or 0
        limit = min(PRESENT_LIMIT, estimate // 4)
        if limit and keyset.primary and keyset.as_read and self._present_usable(keyset):
            from wizard.engine.matching import existing_keys

            found = existing_keys(
                organization=self.run.organization,
                resource=self.resource,
                key_attnames=list(keyset.attnames),
                limit=limit,
            )
        self._present[keyset.name] = found
        return found

    def _present_usable(self, keyset: KeySet) -> bool:
        run = self.run
        if getattr(run, "variants", None) is not None:
            return False
        for plan in run.plans:
            if plan.is_ref and plan.field.ref.resource == self.resource.name:
                return False
        meta = self.resource.model._meta
        wanted = {"organization_id", *keyset.attnames}
        return any(
            isinstance(c, models.UniqueConstraint)
            and c.fields
            and {meta.get_field(f).attname for f in c.fields} == wanted
            for c in meta.constraints
        )

    def settle(self, rows: list[Row]) -> None:
        """After classifying: a 'last' repeat of a record this run creates updates it (without
        a change-log entry: undoing the import deletes the record anyway)."""
        run = self.run
        for row in rows:
            if not (row.extra and row.extra.get("repeat_last")) or row.errors:
                continue
            if row.status in (S.UPDATE, S.UNCHANGED, S.NEW) and row.existing is not None:
                obj = row.existing
                row.changes = {
                    a: (getattr(obj, a), row.values[a])
                    for a in run.mapped_attnames
                    if a in row.values and getattr(obj, a) != row.values[a]
                }
                row.extra["repeat_update"] = True
            row.status = S.MERGED

    def after(self, rows: list[Row]) -> None:
        """Once a batch's outcome is final: remember which keys' records this run creates
        (read only where the last repeat wins)."""
        if self.policy != "last":
            return
        numbers = self.numbers or {}
        for row in rows:
            if row.status == S.NEW and row.key is not None:
                number = numbers.get(row.number)
                if number is None:  # not keyed by ``check`` just now: look it up
                    number = self.keys.find(row.key)
                self.repeats.flag(number, Repeats.CREATED)
        self.numbers = {}

    def write(self, rows: list[Row]) -> None:
        objs, used = [], set()
        for row in rows:
            if not (row.extra and row.extra.get("repeat_update")) or not row.changes:
                continue
            obj = row.existing
            for attname, (_, new) in row.changes.items():
                setattr(obj, attname, new)
            obj._ferry_changed = set(row.changes)
            used |= obj._ferry_changed
            obj.updated_at = self.run.now
            objs.append(obj)
        if objs:
            bulk_update_changed(self.run.model, objs, used)

    def summary(self) -> dict[str, Any]:
        c = self.run.counts
        out = {
            "repeats": self.policy,
            "repeats_merged": c["repeats_merged"],
            "repeats_conflicting": c["repeats_conflicting"],
        }
        if self.resource.fallback_keys:
            order = [k.name for k in self.keysets]
            out["keys_used"] = {
                name: c[KEY_COUNT + name] for name in [*order, NO_KEY] if c[KEY_COUNT + name]
            }
        return out


def _raw(row: Row, plan: FieldPlan) -> Any:
    if plan.index is not None and plan.index < len(row.raw):
        value = row.raw[plan.index]
        return "" if value is None else value
    return ""


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
