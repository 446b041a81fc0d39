"""The table of a file's keys (``SeenKeys``) and the repeats kept by it: exact whatever the
hashes do, and the same whether the keys sit in memory or in the spill file."""

from __future__ import annotations

import builtins
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


def test_keys_whose_hashes_collide_stay_apart():
    # CPython hashes -1 and -2 alike (-1 is its error value): two keys, one hash.
    assert hash((-1,)) == hash((-2,))
    seen = SeenKeys()
    assert seen.add((-1,))
    assert seen.add((-2,))
    assert not seen.add((-2,))
    assert (-1,) in seen and (-2,) in seen and (-3,) not in seen
    assert len(seen) == 2


def test_keys_are_one_when_equal_as_in_a_set():
    seen = SeenKeys()
    assert seen.add((1,))
    assert not seen.add((1.0,))
    assert seen.add((Decimal("1.50"),))
    assert not seen.add((Decimal("1.5"),))
    assert seen.add(("1",))


@pytest.mark.parametrize(
    ("pending", "stride", "buffer"), [(4096, 256, 1 << 20), (3, 2, 7), (1, 1, 1)]
)
def test_every_key_is_found_by_number_on_one_hash(monkeypatch, pending, stride, buffer):
    # Every key on the same hash: each lookup reads the earlier keys back, not yet written,
    # in the spill's buffer or (a tiny buffer) in its file, records straddling the two included.
    monkeypatch.setattr(keys_module, "PENDING", pending)
    monkeypatch.setattr(keys_module, "STRIDE", stride)
    monkeypatch.setattr(Spill, "BUFFER", buffer)
    wanted = [
        ("a@x.com",),
        ("ä\udcff@x.com",),  # a lone surrogate, as a file decoded with surrogateescape has
        ("",),
        ("Ann", "Lee", 7),
        ("first_name + last_name", "Ann", "Lee"),
        (dt.date(2024, 1, 2),),
        (None,),
        ("x" * 5000,),
        ("é" * 300,),
        ("z@x.com",),
    ]
    seen = SeenKeys(capacity=4)
    for n, key in enumerate(wanted):
        assert seen.index(key, 42) == ~n
    for n, key in enumerate(wanted):
        assert seen.index(key, 42) == n
        assert seen.find(key, 42) == n
    assert seen.find(("b@x.com",), 42) == -1
    seen.close()


def test_many_keys_grow_the_table_and_spill(monkeypatch):
    monkeypatch.setattr(Spill, "BUFFER", 4096)
    monkeypatch.setattr(keys_module, "PENDING", 1000)
    seen = SeenKeys(capacity=8)
    for i in range(20_000):
        assert seen.add((f"person{i}@example.com",))
    assert all((f"person{i}@example.com",) in seen for i in range(0, 20_000, 7))
    assert not seen.add(("person19999@example.com",))
    assert ("person20000@example.com",) not in seen
    assert len(seen) == 20_000


def test_repeats_keep_the_first_rows_values_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(identity, "REPEAT_DETAIL_LIMIT", 2)
    repeats = Repeats()
    for n in range(3):
        assert repeats.first_or_put(n, 100 + n, 10 + n, ("v", n, dt.date(2020, 1, n + 1))) is None
    assert repeats.first_or_put(1, 999, 50, ("other",)) == (11, 101, 0)
    assert repeats.detail(1) == ("v", 1, dt.date(2020, 1, 2))
    assert repeats.detail(2) is None  # past the limit
    repeats.put(1, values_hash=555, row=60, values=("w",))
    repeats.flag(1, Repeats.CREATED)
    assert repeats.first_or_put(1, 1, 1, ()) == (60, 555, Repeats.CREATED)
    assert repeats.detail(1) == ("w",)


def _colliding_hash(value):
    # Every e-mail key on one hash; everything else (the values compared) hashed as usual.
    if type(value) is tuple and value and type(value[0]) is str and "@" in value[0]:
        return 42
    return builtins.hash(value)


@pytest.mark.parametrize("policy", ["fail", "first", "last"])
def test_an_import_is_the_same_when_every_key_has_one_hash(
    org, owner, tmp_path, monkeypatch, policy
):
    rows = [
        ["Email", "First name", "Phone"],
        ["a@x.com", "Ann", "1"],
        ["b@x.com", "Bob", "2"],
        ["a@x.com", "Ann", "1"],  # merged: the same values
        ["b@x.com", "Bob", "3"],  # a conflict, settled by the policy
        ["c@x.com", "Cy", "4"],
    ]
    monkeypatch.setattr(identity, "hash", _colliding_hash, raising=False)
    job = run_import(org, owner, "contacts", tmp_path, rows, repeats=policy)
    s = job.summary
    assert (s["created"], s["repeats_merged"], s["repeats_conflicting"]) == (3, 1, 1)
    level = "error" if policy == "fail" else "warning"
    assert [m.split(" (")[0] for m in log_messages(job, level)] == [
        "Row 5, column 'Phone': email 'b@x.com' is also on row 3 with another phone: "
        "'2' there, '3' here"
    ]
    phones = dict(Contact.objects.filter(organization=org).values_list("email", "phone"))
    assert phones == {"a@x.com": "1", "b@x.com": "3" if policy == "last" else "2", "c@x.com": "4"}


def test_it_numbers_keys_like_a_dict_on_few_hashes(monkeypatch):
    # Keys of every kind on eight hashes, through writes, spill files and growth: the numbers
    # given are a dict's.
    monkeypatch.setattr(keys_module, "PENDING", 37)
    monkeypatch.setattr(keys_module, "STRIDE", 5)
    monkeypatch.setattr(Spill, "BUFFER", 300)
    rng = random.Random(3)
    kinds = [
        lambda n: (f"k{n}",),
        lambda n: ("y" * (250 + n % 10),),
        lambda n: (n,),
        lambda n: ("fallback", f"a{n}", Decimal(n) / 4),
        lambda n: (dt.date(2000, 1, 1) + dt.timedelta(days=n),),
    ]
    expected: dict[tuple, int] = {}
    seen = SeenKeys(capacity=4)
    for _ in range(3000):
        key = rng.choice(kinds)(rng.randrange(400))
        number = seen.index(
            key, (hash(key) % 8 + 1) << 45
        )  # eight hashes, in the bits slots and filter read
        if key in expected:
            assert number == expected[key]
        else:
            assert number == ~len(expected)
            expected[key] = len(expected)
    for key, number in expected.items():
        assert seen.find(key, (hash(key) % 8 + 1) << 45) == number


@pytest.mark.parametrize(
    "values",
    [
        ("a", 1, None, True, 1.5),
        ("a", dt.date(2020, 1, 2), None, False, 0),
        ("a", dt.datetime(2020, 1, 2, 3), Decimal("1.50"), {"x": [1]}, [2]),
        (dt.date(1, 1, 1),),
        (),
    ],
)
def test_a_first_rows_values_read_back_as_they_were(values):
    repeats = Repeats()
    repeats.first_or_put(0, 1, 2, values)
    back = repeats.detail(0)
    assert back == values
    assert [type(v) for v in back] == [type(v) for v in values]
