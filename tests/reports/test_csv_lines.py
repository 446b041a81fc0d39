"""The CSV writer's database chunks written as lines of text (no csv.writer for rows whose cells
need no quotes) give the bytes csv.writer gives, whatever the cells and the delimiter."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from business.resources import FieldType as T
from business.writers import Column, writer_for
from business.writers.base import neutralize, text_value

# Every character csv.writer quotes for (delimiters, quote, line breaks), NUL, spaces, the
# formula characters and the apostrophe of the guard.
ALPHABET = " ,;\t|%a\"\r\n\x00=+-@0.'é"
TEXT = st.text(alphabet=ALPHABET, max_size=5)
VALUES = {
    T.TEXT: st.one_of(st.none(), TEXT, TEXT, st.integers(-5, 5)),
    T.BOOLEAN: st.one_of(st.none(), st.booleans()),
    T.DATE: st.one_of(st.none(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
    T.INTEGER: st.one_of(st.none(), st.integers()),
    T.MONEY: st.one_of(st.none(), st.decimals(places=2, allow_nan=False, allow_infinity=False)),
}
DELIMITERS = [",", ";", "\t", "|", "%", "a", " ", "'", "\x00"]


@st.composite
def tables(draw):
    types = draw(st.lists(st.sampled_from(list(VALUES)), min_size=1, max_size=5))
    row = st.tuples(*[VALUES[t] for t in types])
    # Chunks of plain rows only, of mixed rows, and of rows most of which need quotes.
    plain = st.tuples(*[VALUES[t].filter(_plain) for t in types])
    chunks = draw(
        st.lists(
            st.one_of(st.lists(row, max_size=6), st.lists(plain, max_size=6)),
            min_size=1,
            max_size=4,
        )
    )
    return types, chunks, draw(st.sampled_from(DELIMITERS))


def _plain(value) -> bool:
    return not isinstance(value, str) or not any(c in value for c in ",;\t|%a\"\r\n\x00 '")


def expected(columns, rows, delimiter) -> bytes:
    # The per-cell rules, one csv.writer row at a time.
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralize(c.label) for c in columns])
    for row in rows:
        writer.writerow([neutralize(v) if isinstance(v, str) else text_value(v) for v in row])
    return out.getvalue().encode()


@settings(max_examples=400, deadline=None)
@given(tables())
def test_it_writes_chunks_as_csv_writer_writes_their_rows(tmp_path_factory, table):
    types, chunks, delimiter = table
    columns = [Column(f"c{i}", f"C{i}", t) for i, t in enumerate(types)]
    path = tmp_path_factory.mktemp("lines") / "out.csv"
    with writer_for("csv")(path, title="T", options={"delimiter": delimiter}) as writer:
        # One converter, so the rows go through the compiled per-row function as a resource
        # export's do.
        writer.section("T", columns, converters=[lambda v: v, *[None] * (len(columns) - 1)])
        for chunk in chunks:
            assert writer.chunk(chunk) == len(chunk)
    rows = [row for chunk in chunks for row in chunk]
    assert path.read_bytes() == expected(columns, rows, delimiter)


def test_it_writes_a_chunk_of_plain_rows_then_one_with_quotes_then_one_mostly_quoted(tmp_path):
    columns = [Column("name", "Name"), Column("amount", "Amount", T.MONEY)]
    plain = [("Ann", Decimal("1.50")), (None, None), ("=1+1", Decimal("-2"))]
    some = [("Bob", Decimal("3")), ("Doe, John", None), ('say "hi"', Decimal("0"))]
    most = [("a\nb", None), ("c,d", None), ("e", None)]
    after = [("f", Decimal("4.25"))]
    path = tmp_path / "out.csv"
    with writer_for("csv")(path, title="T") as writer:
        writer.section("T", columns, converters=[None, lambda v: v])
        for chunk in (plain, some, most, after):
            writer.chunk(chunk)
    assert path.read_bytes() == (
        b"Name,Amount\r\n"
        b"Ann,1.50\r\n,\r\n'=1+1,-2\r\n"
        b'Bob,3\r\n"Doe, John",\r\n"say ""hi""",0\r\n'
        b'"a\nb",\r\n"c,d",\r\ne,\r\n'
        b"f,4.25\r\n"
    )
