"""The key table's frozen generations (``SeenKeys``) and the repeats' pages (``Repeats``): a
long file's keys and first rows sit in temporary files, read back exactly as if they had stayed
in memory; and the first rows' values packed a batch at a time read back as packed one by one."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from business.models import Contact
from tests.wizard.test_engine import log_messages, run_import
from wizard.engine import identity
from wizard.engine import keys as keys_module
from wizard.engine.identity import Repeats
from wizard.engine.keys import SeenKeys, Spill


@pytest.fixture
def small(monkeypatch):
    """Generations and pages of a few keys, a tiny spill buffer: every path taken often."""
    monkeypatch.setattr(keys_module, "GENERATION", 8)
    monkeypatch.setattr(keys_module, "GROUP", 3)
    monkeypatch.setattr(keys_module, "PENDING", 5)
    monkeypatch.setattr(keys_module, "STRIDE", 3)
    monkeypatch.setattr(Spill, "BUFFER", 64)
    monkeypatch.setattr(identity, "PAGE", 4)


KINDS = [
    lambda n: (f"k{n}@example.com",),
    lambda n: ("y" * (250 + n % 10),),  # lengths on both sides of one byte's limit
    lambda n: (n,),
    lambda n: ("first_name + last_name", f"a{n}", Decimal(n) / 4),
    lambda n: (dt.date(2000, 1, 1) + dt.timedelta(days=n),),
    lambda n: (f"ä\udcff{n}",),  # a lone surrogate
]


@pytest.mark.parametrize("hashes", [1, 8, 1000, None])
def test_keys_across_generations_number_like_a_dict(small, hashes):
    # Many generations, frozen to the pages file; on one hash, eight or a thousand every
    # lookup meets other keys' hashes in frozen tables (and the filter says "maybe").
    rng = random.Random(5)
    expected: dict[tuple, int] = {}
    seen = SeenKeys(capacity=4)

    def h(key):
        # Few hashes, told apart by the bits the tables and filter read (their upper bits).
        return ((hash(key) % hashes + 1) << 45) if hashes else (hash(key) or 1)

    for _ in range(400 if hashes == 1 else 3000):
        key = rng.choice(KINDS)(rng.randrange(300))
        number = seen.index(key, h(key))
        if key in expected:
            assert number == expected[key]  # a repeat found, in memory or across the spill
        else:
            assert number == ~len(expected)
            expected[key] = len(expected)
    assert len(seen) == len(expected)
    assert sum(len(g.bases) for g in seen._groups) == len(expected) // 8
    for key, number in expected.items():
        assert seen.find(key, h(key)) == number
        assert seen._key(number) == key
    assert seen.find(("absent@example.com",), h(("absent@example.com",))) == -1
    seen.close()


def test_a_key_pickle_refuses_is_kept_across_generations(small):
    seen = SeenKeys()
    odd = (lambda: 1,)  # pickle refuses a lambda: the key is kept as is
    assert seen.add(odd)
    for n in range(30):
        assert seen.add((f"k{n}",))
    assert sum(len(g.bases) for g in seen._groups) == 3
    assert not seen.add(odd) and odd in seen
    assert seen._key(0) is not None and seen._key(0)[0] is odd[0]


def test_the_filter_is_sized_for_the_reserved_keys_or_grown(small):
    reserved = SeenKeys()
    reserved.reserve(100)
    grown = SeenKeys()
    for n in range(100):
        assert reserved.add((n,)) and grown.add((n,))
    assert len(reserved._bloom) * 8 >= keys_module.BLOOM_BITS * 100
    assert len(grown._bloom) * 8 >= keys_module.BLOOM_BITS * 96  # 12 generations frozen
    for n in range(100):
        assert (n,) in reserved and (n,) in grown
    assert (100,) not in reserved and (100,) not in grown


def test_the_live_table_stays_one_generation(monkeypatch):
    monkeypatch.setattr(keys_module, "GENERATION", 1 << 10)
    seen = SeenKeys()
    seen.reserve(1_000_000)
    for n in range(5000):
        seen.add((f"k{n}",))
    assert len(seen._words) == 2 * (1 << 10)  # not sized for the million reserved
    assert seen._count == 5000 - 4 * (1 << 10) and len(seen) == 5000


def test_repeats_pages_read_and_write_back(small, monkeypatch):
    monkeypatch.setattr(identity, "REPEAT_DETAIL_LIMIT", 1000)
    repeats = Repeats()
    for n in range(10):
        assert repeats.first_or_put(n, 100 + n, 10 + n, (f"v{n}",)) is None
    assert repeats._base == 8  # two pages written
    assert repeats.first_or_put(1, 7, 99, ()) == (11, 101, 0)  # from the file
    assert repeats.first_or_put(9, 7, 99, ()) == (19, 109, 0)  # in memory
    repeats.flag(1, Repeats.CREATED)
    assert repeats.first_or_put(1, 7, 99, ()) == (11, 101, Repeats.CREATED)
    repeats.put(2, values_hash=-555, row=60, values=("w",))
    assert repeats.first_or_put(2, 7, 99, ()) == (60, -555, 0)
    # A key numbered past the last one put: the keys between have no row yet.
    repeats.put(17, values_hash=3, row=70, values=("far",))
    assert repeats.first_or_put(17, 7, 99, ()) == (70, 3, 0)
    assert repeats.first_or_put(12, 4, 80, ("late",)) is None  # put now, in the file
    assert repeats.first_or_put(12, 7, 99, ()) == (80, 4, 0)
    repeats.flag(13, Repeats.CREATED)  # no row yet: nothing to flag
    assert repeats.first_or_put(13, 5, 81, ()) is None
    assert repeats.first_or_put(13, 7, 99, ()) == (81, 5, 0)
    assert [repeats.detail(n) for n in (0, 1, 2, 9, 12, 17, 14)] == [
        ("v0",),
        ("v1",),
        ("w",),
        ("v9",),
        ("late",),
        ("far",),
        None,
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [("a", 1, None, True, 1.5), ("b", 2, "x", False, 0.0)],
        [
            ("a", dt.date(2020, 1, 2)),
            ("b", dt.date(1, 1, 1)),
            ("c", None),
            ("d", dt.date(2020, 1, 3)),
        ],
        [("a", dt.date(2020, 1, 2)), ("b", dt.date(2021, 5, 6))],  # a column of dates only
        [("a", dt.date(2020, 1, 2)), ("b",), ()],  # lengths differ
        [("a", dt.datetime(2020, 1, 2, 3)), ("b", Decimal("1.50")), ("c", {"x": [1]})],
        [(), ()],
    ],
)
def test_values_packed_a_batch_at_a_time_read_back_as_they_were(rows):
    repeats = Repeats()
    for n, values in enumerate(rows):
        repeats.first_or_put(n, n + 1, n + 2, values)
    repeats.detail_write()
    for n, values in enumerate(rows):
        back = repeats.detail(n)
        assert back == values
        assert [type(v) for v in back] == [type(v) for v in values]


def test_values_put_out_of_order_in_one_batch_keep_the_last(monkeypatch):
    monkeypatch.setattr(identity, "REPEAT_DETAIL_LIMIT", 4)
    repeats = Repeats()
    repeats.first_or_put(0, 1, 1, ("a",))
    repeats.first_or_put(1, 1, 2, ("b",))
    repeats.put(0, values_hash=2, row=3, values=("a2",))  # 'last' wins: in the same batch
    repeats.first_or_put(
        2, 1, 4, (lambda: 1,)
    )  # pickle refuses: this key's conflict names no column
    repeats.first_or_put(5, 1, 5, ("past the limit",))
    assert repeats.detail(0) == ("a2",)
    assert repeats.detail(1) == ("b",)
    assert repeats.detail(2) is None
    assert repeats.detail(5) is None


def test_a_conflict_reads_values_without_packing_the_batch_so_far():
    # Each conflict used to pack the batch's pending values first: with a repeat every few
    # rows, a batch was packed in dozens of pieces.
    repeats = Repeats()
    for n in range(3):
        repeats.first_or_put(n, 1, n, (f"v{n}",))
    repeats.detail_write()
    for n in range(3, 6):
        repeats.first_or_put(n, 1, n, (f"v{n}", dt.date(2020, 1, n)))
    assert repeats.detail(1) == ("v1",)  # written before
    assert repeats.detail(4) == ("v4", dt.date(2020, 1, 4))  # this batch's, as put
    assert repeats._detail_numbers == [3, 4, 5]  # still waiting to be packed together
    repeats.put(4, values_hash=2, row=9, values=("newer",))  # out of order: packed first
    assert repeats.detail(4) == ("newer",)
    assert repeats._detail_numbers == []
    assert [repeats.detail(n) for n in (3, 5)] == [
        ("v3", dt.date(2020, 1, 3)),
        ("v5", dt.date(2020, 1, 5)),
    ]


def test_new_keys_put_together_are_as_if_put_one_by_one(small, monkeypatch):
    monkeypatch.setattr(identity, "REPEAT_DETAIL_LIMIT", 6)
    together, alone = Repeats(), Repeats()
    # Pages of 4; 9 is never put; 13 before 12 (the one-by-one way).
    lots = [[0, 1, 2], [3], [4, 5, 6, 7, 8], [], [10, 11], [13, 12]]
    for numbers in lots:
        hashes = [100 + n for n in numbers]
        rows = [10 + n for n in numbers]
        values = [(f"v{n}",) for n in numbers]
        together.firsts_put(numbers, hashes, rows, values)
        for n, h, r, v in zip(numbers, hashes, rows, values, strict=True):
            assert alone.first_or_put(n, h, r, v) is None
    for repeats in (together, alone):
        assert [repeats.first_or_put(n, 7, 99, ()) for n in (0, 3, 5, 8, 11, 12, 13)] == [
            (10, 100, 0),
            (13, 103, 0),
            (15, 105, 0),
            (18, 108, 0),
            (21, 111, 0),
            (22, 112, 0),
            (23, 113, 0),
        ]
        assert [repeats.detail(n) for n in (0, 4, 5, 6, 10)] == [
            ("v0",),
            ("v4",),
            ("v5",),
            None,
            None,
        ]


def _rows(n):
    rng = random.Random(11)
    rows = [["Email", "First name", "Phone", "Birth date"]]
    for i in range(n):
        j = rng.randrange(i) if i > 3 and rng.random() < 0.3 else i
        phone = str(j) if rng.random() < 0.5 else str(i)  # half the repeats conflict
        rows.append([f"p{j}@x.com", f"N{j}", phone, f"2000-01-{1 + j % 28:02d}"])
    return rows


@pytest.mark.parametrize("policy", ["fail", "first", "last"])
def test_an_import_is_the_same_with_its_keys_in_files(org, owner, tmp_path, monkeypatch, policy):
    rows = _rows(120)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = run_import(org, owner, "contacts", tmp_path / "a", rows, repeats=policy)
    expected = (
        {k: v for k, v in whole.summary.items() if k != "files"},  # the failed rows' file name
        log_messages(whole, "error"),
        log_messages(whole, "warning"),
        dict(Contact.objects.filter(organization=org).values_list("email", "phone")),
    )
    Contact.objects.filter(organization=org).delete()
    monkeypatch.setattr(keys_module, "GENERATION", 4)
    monkeypatch.setattr(keys_module, "PENDING", 3)
    monkeypatch.setattr(identity, "PAGE", 4)
    paged = run_import(org, owner, "contacts", tmp_path / "b", rows, repeats=policy)
    got = (
        {k: v for k, v in paged.summary.items() if k != "files"},
        log_messages(paged, "error"),
        log_messages(paged, "warning"),
        dict(Contact.objects.filter(organization=org).values_list("email", "phone")),
    )
    assert got == expected
    assert whole.summary["repeats_conflicting"] > 5 and whole.summary["repeats_merged"] > 5
