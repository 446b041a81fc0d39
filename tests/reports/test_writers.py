"""Each writer's file read back by a real reader: csv, openpyxl, json and pypdf."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from business.resources import FieldType as T
from business.writers import FORMATS, Column, PdfRowLimit, writer_for
from business.writers import xlsx as xlsx_module
from business.writers.base import Call, Steps, neutralize, neutralize_undo
from jobs.errors import FerryError

COLUMNS = [
    Column("email", "Email", T.EMAIL),
    Column("name", "Name"),
    Column("amount", "Amount", T.MONEY),
    Column("quantity", "Quantity", T.DECIMAL),
    Column("count", "Count", T.INTEGER),
    Column("born", "Born", T.DATE),
    Column("seen", "Seen", T.DATETIME),
    Column("active", "Active", T.BOOLEAN),
]


def sample_row(i: int) -> list:
    return [
        f"person{i}@example.com",
        f"Person {i}",
        Decimal("1234.50") + i,
        Decimal("2.125"),
        i,
        dt.date(1990, 1, 1) + dt.timedelta(days=i),
        dt.datetime(2024, 5, 1, 9, 30) + dt.timedelta(hours=i),
        i % 2 == 0,
    ]


def write(fmt: str, path, rows, *, columns=COLUMNS, options=None, summary=None):
    writer = writer_for(fmt)(
        path,
        title="People",
        organization_name="Acme Ltd",
        filters_text=["Active: yes"],
        options=options,
    )
    if summary:
        writer.summary("Summary", summary)
    writer.section("People", columns)
    for row in rows:
        writer.row(row)
    writer.close()
    return path


def test_it_lists_the_formats_and_refuses_an_unknown_one():
    assert set(FORMATS) == {"csv", "xlsx", "json", "jsonl", "pdf"}
    assert writer_for("XLSX").extension == "xlsx"
    with pytest.raises(FerryError, match="'docx'"):
        writer_for("docx")


# --- CSV ---------------------------------------------------------------------------------------
def test_it_writes_a_plain_csv_with_header_iso_dates_and_exact_decimals(tmp_path):
    path = write("csv", tmp_path / "out.csv", [sample_row(i) for i in range(3)])
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [c.label for c in COLUMNS]
    assert rows[1] == [
        "person0@example.com",
        "Person 0",
        "1234.50",
        "2.125",
        "0",
        "1990-01-01",
        "2024-05-01 09:30:00",
        "true",
    ]
    assert len(rows) == 4


def test_it_writes_a_bom_and_the_chosen_delimiter(tmp_path):
    path = write(
        "csv", tmp_path / "out.csv", [sample_row(1)], options={"bom": True, "delimiter": ";"}
    )
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0][0] == "Email" and rows[1][1] == "Person 1"


def test_it_writes_csv_sections_after_a_summary(tmp_path):
    path = tmp_path / "report.csv"
    writer = writer_for("csv")(path, title="Sales")
    writer.summary("Summary", [("Orders", 3), ("Revenue", Decimal("10.50"))])
    writer.section("Sales", [Column("number", "Number"), Column("total", "Total", T.MONEY)])
    writer.row(["SO-1", Decimal("10.50")])
    writer.section("Lines", [Column("sku", "SKU")])
    writer.row(["A-1"])
    writer.close()
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["Summary"],
        ["Orders", "3"],
        ["Revenue", "10.50"],
        [],
        ["Sales"],
        ["Number", "Total"],
        ["SO-1", "10.50"],
        [],
        ["Lines"],
        ["SKU"],
        ["A-1"],
    ]


def test_it_refuses_a_second_section_in_a_plain_export(tmp_path):
    writer = writer_for("csv")(tmp_path / "x.csv", title="X")
    writer.section("A", [Column("a", "A")])
    with pytest.raises(ValueError, match="summary"):
        writer.section("B", [Column("b", "B")])
    writer.close()


# Text a spreadsheet could run: a function call, a DDE command, a tab or carriage return.
FORMULAS = [
    '=HYPERLINK("http://evil.example","Click")',
    "@SUM(A1:A9)",
    "+cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "=1+1",
    "\tx",
    "\rx",
]
# Made only of digits, spaces and ( ) . , + -: phone numbers and signed amounts, written as is.
PLAIN = ["+41 44 668 18 00", "-12.50", "+33 (0)1 23 45 67 89", "-1,234.50", "+1+2"]


def test_it_neutralises_formulas_in_csv_but_not_phone_numbers_or_amounts(tmp_path):
    columns = [Column("text", "Text"), Column("n", "N", T.DECIMAL)]
    rows = [[f, Decimal("-5")] for f in FORMULAS + PLAIN]
    path = write("csv", tmp_path / "f.csv", rows, columns=columns)
    with open(path, encoding="utf-8", newline="") as fh:
        data = list(csv.reader(fh))[1:]
    assert [r[0] for r in data] == ["'" + f for f in FORMULAS] + PLAIN
    assert {r[1] for r in data} == {"-5"}


def test_it_guards_the_same_values_in_a_csv_summary_block(tmp_path):
    path = tmp_path / "s.csv"
    with writer_for("csv")(path, title="T") as writer:
        writer.summary("Summary", [("Phone", "+41 44 668 18 00"), ("Link", "=HYPERLINK(1)")])
    text = path.read_text(encoding="utf-8")
    assert "Phone,+41 44 668 18 00" in text and "Link,'=HYPERLINK(1)" in text


def test_it_takes_the_apostrophe_back_off_on_import_for_every_guarded_value():
    for value in FORMULAS + PLAIN:
        assert neutralize_undo(neutralize(value)) == value
    # An older Ferry also guarded phone numbers; their apostrophe goes too.
    assert neutralize_undo("'+41 44 668 18 00") == "+41 44 668 18 00"
    assert neutralize_undo("'tis") == "'tis"


# --- XLSX --------------------------------------------------------------------------------------
def test_it_writes_xlsx_with_typed_cells_formats_and_a_bold_frozen_header(tmp_path):
    path = write("xlsx", tmp_path / "out.xlsx", [sample_row(i) for i in range(60)])
    wb = load_workbook(path)
    ws = wb["People"]
    assert [c.value for c in ws[1]] == [c.label for c in COLUMNS]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    row = ws[2]
    assert row[2].value == pytest.approx(1234.5) and row[2].data_type == "n"
    assert row[2].number_format == "#,##0.00"
    assert row[3].value == pytest.approx(2.125) and row[3].data_type == "n"
    assert row[4].value == 0 and row[4].number_format == "0"
    assert row[5].is_date and row[5].value == dt.datetime(1990, 1, 1)
    assert row[5].number_format == "yyyy-mm-dd"
    assert row[6].is_date and row[6].value == dt.datetime(2024, 5, 1, 9, 30)
    assert row[7].value is True
    # The header filters the table; a totals row sums the amount column (and only that).
    assert ws.auto_filter.ref == "A1:H61"
    assert ws.max_row == 62
    totals = [c.value for c in ws[62]]
    assert totals[0] == "Total" and totals[2] == "=SUBTOTAL(109,C2:C61)"
    assert totals[3:] == [None] * 5 and ws["C62"].font.bold
    # Sized from the header and first rows: the e-mail column is wider than the count.
    assert ws.column_dimensions["A"].width > ws.column_dimensions["E"].width


def test_it_writes_aware_datetimes_in_local_time(tmp_path, settings):
    settings.TIME_ZONE = "Europe/Paris"
    aware = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.UTC)
    path = write("xlsx", tmp_path / "tz.xlsx", [[aware]], columns=[Column("t", "T", T.DATETIME)])
    assert load_workbook(path).active["A2"].value == dt.datetime(2024, 1, 15, 13, 0)


def test_it_writes_formulas_in_xlsx_as_text_cells_without_an_apostrophe(tmp_path):
    columns = [Column("text", "Text"), Column("n", "N", T.MONEY)]
    rows = [[f, Decimal("-5")] for f in FORMULAS + PLAIN]
    path = write("xlsx", tmp_path / "f.xlsx", rows, columns=columns)
    ws = load_workbook(path).active
    values = [ws.cell(row=r, column=1) for r in range(2, len(rows) + 2)]
    # A text cell is never evaluated: no apostrophe. A carriage return is stored as Excel's
    # escape (_x000D_), which Excel and Ferry's own reader (calamine) turn back into "\r";
    # openpyxl shows the escape as it is.
    texts = [row[0] for row in CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()]
    assert texts[1 : len(rows) + 1] == FORMULAS + PLAIN
    assert all(c.data_type == "s" for c in values)
    assert ws["B2"].value == -5 and ws["B2"].data_type == "n"


def test_it_splits_a_sheet_before_excels_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_module, "MAX_SHEET_ROWS", 4)
    path = write("xlsx", tmp_path / "split.xlsx", [sample_row(i) for i in range(8)])
    wb = load_workbook(path)
    assert wb.sheetnames == ["People", "People 2", "People 3", "People 4"]
    counts = [wb[name].max_row for name in wb.sheetnames]
    assert counts == [4, 4, 4, 4]  # header + 2 + the totals row: never more than the limit
    for name in wb.sheetnames:
        assert wb[name]["A1"].value == "Email" and wb[name]["A1"].font.bold
        assert wb[name].freeze_panes == "A2"
    emails = [
        wb[n].cell(row=r, column=1).value for n in wb.sheetnames for r in range(2, wb[n].max_row)
    ]
    assert emails == [f"person{i}@example.com" for i in range(8)]


def test_it_puts_the_summary_sheet_first(tmp_path):
    path = tmp_path / "report.xlsx"
    writer = writer_for("xlsx")(path, title="Sales", organization_name="Acme Ltd")
    writer.section("Sales", [Column("total", "Total", T.MONEY)])
    writer.row([Decimal("10.5")])
    writer.summary("Summary", [("Revenue", Decimal("10.50")), ("Orders", 1)])
    writer.close()
    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "Sales"]
    labels = {
        r[0].value: r[1] for r in wb["Summary"].iter_rows() if len(r) > 1 and r[1].value is not None
    }
    assert labels["Revenue"].value == pytest.approx(10.5)
    assert labels["Revenue"].number_format == "#,##0.00"
    assert labels["Orders"].value == 1


# --- JSON --------------------------------------------------------------------------------------
def test_it_writes_a_json_array_keyed_by_column_name(tmp_path):
    path = write("json", tmp_path / "out.json", [sample_row(i) for i in range(3)])
    data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert len(data) == 3
    assert data[0] == {
        "email": "person0@example.com",
        "name": "Person 0",
        "amount": Decimal("1234.50"),
        "quantity": Decimal("2.125"),
        "count": 0,
        "born": "1990-01-01",
        "seen": "2024-05-01T09:30:00",
        "active": True,
    }


def test_it_writes_an_empty_json_array_for_no_rows(tmp_path):
    path = write("json", tmp_path / "empty.json", [])
    assert json.loads(path.read_text()) == []


def test_it_writes_json_sections_as_one_object(tmp_path):
    path = tmp_path / "r.json"
    writer = writer_for("json")(path, title="Sales")
    writer.summary("Summary", [("Orders", 2), ("Revenue", Decimal("3.50"))])
    writer.section("Sales", [Column("n", "Number")])
    writer.row(["SO-1"])
    writer.row(["SO-2"])
    writer.section("Line Items", [Column("sku", "SKU")])
    writer.close()
    data = json.loads(path.read_text())
    assert data == {
        "summary": {"Orders": 2, "Revenue": 3.5},
        "Sales": [{"n": "SO-1"}, {"n": "SO-2"}],
        "Line Items": [],
    }


def test_it_writes_json_lines(tmp_path):
    path = write("jsonl", tmp_path / "out.jsonl", [sample_row(i) for i in range(4)])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    assert json.loads(lines[3])["email"] == "person3@example.com"


def test_it_keeps_unicode_and_quotes_intact_in_json(tmp_path):
    text = 'Zoë "the" Ünïcode \\ \n line'
    path = write("json", tmp_path / "u.json", [[text]], columns=[Column("t", "T")])
    assert json.loads(path.read_text(encoding="utf-8")) == [{"t": text}]


# --- PDF ---------------------------------------------------------------------------------------
def test_it_writes_every_row_to_the_pdf_with_headers_on_each_page_and_continuous_numbers(
    tmp_path,
):
    rows = [sample_row(i) for i in range(130)]
    path = write("pdf", tmp_path / "out.pdf", rows)
    reader = PdfReader(path)
    pages = [p.extract_text() for p in reader.pages]
    total = len(pages)
    assert total >= 3
    for number, text in enumerate(pages, 1):
        assert f"Page {number} of {total}" in text
        assert "Email" in text and "Amount" in text
    body = "\n".join(pages)
    found = re.findall(r"person(\d+)@example\.com", body)
    assert sorted(map(int, found)) == list(range(130))
    assert "People" in pages[0] and "Acme Ltd" in pages[0] and "Active: yes" in pages[0]
    assert "1,234.50" in body  # money shown with separators
    assert "130 rows" in pages[-1]


def test_it_prints_wide_tables_on_landscape_pages(tmp_path):
    wide = [Column(f"c{i}", f"Column {i}") for i in range(9)]
    narrow = [Column("a", "A")]
    wide_pdf = write("pdf", tmp_path / "w.pdf", [["x"] * 9], columns=wide)
    narrow_pdf = write("pdf", tmp_path / "n.pdf", [["x"]], columns=narrow)
    w = PdfReader(wide_pdf).pages[0].mediabox
    n = PdfReader(narrow_pdf).pages[0].mediabox
    assert w.width > w.height
    assert n.height > n.width


def test_it_refuses_more_rows_than_the_pdf_limit(tmp_path):
    writer = writer_for("pdf")(tmp_path / "big.pdf", title="Big", options={"max_rows": 3})
    writer.section("Rows", [Column("a", "A")])
    with pytest.raises(PdfRowLimit, match="XLSX"):
        for i in range(5):
            writer.row([str(i)])
    writer.abort()
    assert not (tmp_path / "big.pdf").exists()


def test_it_shows_the_summary_block_first_in_the_pdf(tmp_path):
    path = tmp_path / "r.pdf"
    writer = writer_for("pdf")(path, title="Sales report", organization_name="Acme Ltd")
    writer.summary("Key figures", [("Revenue", Decimal("12345.5")), ("Orders", 12)])
    writer.section("Sales", [Column("n", "Number")])
    writer.row(["SO-1"])
    writer.close()
    text = PdfReader(path).pages[0].extract_text()
    assert text.index("Revenue") < text.index("SO-1")
    assert "12,345.50" in text and "Page 1 of 1" in text


def test_it_removes_the_partial_file_when_aborted(tmp_path):
    for fmt in ("csv", "xlsx", "json", "jsonl"):
        path = tmp_path / f"p.{fmt}"
        with pytest.raises(RuntimeError), writer_for(fmt)(path, title="P") as writer:
            writer.section("P", [Column("a", "A")])
            writer.row(["x"])
            raise RuntimeError("boom")
        assert not path.exists(), fmt


def test_it_leaves_no_file_behind_when_a_pdf_is_aborted(tmp_path):
    writer = writer_for("pdf")(tmp_path / "a.pdf", title="A")
    writer.section("Rows", [Column("a", "A")])
    for i in range(120):
        writer.row([str(i)])
    writer.abort()
    assert not (tmp_path / "a.pdf").exists()


def test_it_neutralises_text_in_typed_csv_columns_and_keeps_none_empty(tmp_path):
    columns = [Column("b", "B", T.BOOLEAN), Column("m", "M", T.MONEY), Column("d", "D", T.DATE)]
    rows = [["=1+1", "-2", "@x"], [None, None, None], [True, Decimal("1E+2"), dt.date(2024, 2, 29)]]
    path = write("csv", tmp_path / "t.csv", rows, columns=columns)
    with open(path, encoding="utf-8", newline="") as fh:
        data = list(csv.reader(fh))[1:]
    assert data == [["'=1+1", "-2", "'@x"], ["", "", ""], ["true", "100", "2024-02-29"]]


def _day(value, separator):
    return None if value is None else dt.date(*map(int, value.split(separator)))


def test_it_writes_database_chunks_to_exactly_these_csv_bytes(tmp_path):
    # Rows as a cursor returns them, turned into values by per-column converters (a plain
    # function, a call with extra arguments, two in a row), the way a resource export writes
    # them. The first chunk decides which columns hold text; the second breaks that guess (an
    # integer and a date in a text column) and must still come out as the per-cell rules say.
    columns = [
        Column("email", "=Email", T.EMAIL),
        Column("name", "Name"),
        Column("stage", "Stage", T.CHOICE),
        Column("phone", "Phone"),
        Column("active", "Active", T.BOOLEAN),
        Column("born", "Born", T.DATE),
        Column("amount", "Amount", T.MONEY),
    ]
    names = {"c": "Customer", "l": "@Lead"}
    converters = [
        None,
        None,
        lambda code: names.get(code, code),
        None,
        Call(lambda value, yes: None if value is None else value == yes, 1),
        Steps((str.strip, Call(_day, "/"))),
        Call(lambda value, places: value and Decimal(value).quantize(places), Decimal("0.01")),
    ]
    first = [
        ("a@x.io", 'Zoë "Z" O\'Brien', "c", "+41 44 668 18 00", 1, " 2024/2/29 ", "12.5"),
        ("b@x.io", "", "l", "-12.50", 0, "1990/1/1", "-3"),
        ("c@x.io", None, "x", "+cmd|' /C calc'!A0", None, "2000/12/31", None),
    ]
    second = [
        ("=cmd@x.io", 42, "c", "\tTabbed", 1, "2001/1/1", "0"),
        ("d@x.io", dt.date(2020, 5, 4), "c", "line\nbreak", 0, "2001/1/2", "1E+3"),
        ("e@x.io", "@name", "c", "", 1, "2001/1/3", "1"),
    ]
    path = tmp_path / "chunks.csv"
    with writer_for("csv")(path, title="People") as writer:
        writer.section("People", columns, converters=converters)
        assert writer.chunk(first) + writer.chunk(second) == 6
    assert (
        path.read_bytes()
        == (
            "'=Email,Name,Stage,Phone,Active,Born,Amount\r\n"
            'a@x.io,"Zoë ""Z"" O\'Brien",Customer,+41 44 668 18 00,true,2024-02-29,12.50\r\n'
            "b@x.io,,'@Lead,-12.50,false,1990-01-01,-3.00\r\n"
            "c@x.io,,x,'+cmd|' /C calc'!A0,,2000-12-31,\r\n"
            "'=cmd@x.io,42,Customer,'\tTabbed,true,2001-01-01,0.00\r\n"
            'd@x.io,2020-05-04,Customer,"line\nbreak",false,2001-01-02,1000.00\r\n'
            "e@x.io,'@name,Customer,,true,2001-01-03,1.00\r\n"
        ).encode()
    )
    # The same values handed over one row at a time (the reports' way) give the same bytes.
    again = tmp_path / "rows.csv"
    with writer_for("csv")(again, title="People") as writer:
        writer.section("People", columns)
        for row in first + second:
            writer.row([v if c is None else c(v) for c, v in zip(converters, row, strict=True)])
    assert again.read_bytes() == path.read_bytes()


def test_it_prints_markup_in_pdf_cells_as_text(tmp_path):
    path = write(
        "pdf", tmp_path / "m.pdf", [["<b>Bold</b> & <i>co</i>"]], columns=[Column("t", "T")]
    )
    assert "<b>Bold</b> & <i>co</i>" in PdfReader(path).pages[0].extract_text()


def test_it_prints_any_languages_text_and_numbers_landscape_pages_at_their_own_width(tmp_path):
    text = "Zoë Ünïcode – Ωμέγα Кириллица €"
    wide = [Column(f"c{i}", f"Column {i}") for i in range(9)]
    rows = [[text, *[str(i)] * 8] for i in range(200)]
    path = write("pdf", tmp_path / "u.pdf", rows, columns=wide)
    reader = PdfReader(path)
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, 1):
        assert page.mediabox.width > page.mediabox.height
        assert text in page.extract_text()
        assert f"Page {number} of {len(reader.pages)}" in page.extract_text()


def test_it_breaks_a_word_longer_than_its_column_inside_the_column(tmp_path):
    from business.writers.pdf import fonts, wrap

    word = "x" * 3000 + "@example.com"
    regular, _ = fonts()
    lines = wrap(word, regular, 8, 100)
    assert "".join(lines) == word and len(lines) > 10
    path = write("pdf", tmp_path / "l.pdf", [[word]], columns=[Column("t", "T")])
    text = "".join(p.extract_text() for p in PdfReader(path).pages).replace("\n", "")
    assert word in text
