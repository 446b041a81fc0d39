"""Readers against files generated here: encodings, sniffing, 1904 dates, ODS, padding, bombs,
JSON streaming, options, and memory that stays flat as files grow."""

from __future__ import annotations

import datetime as dt
import json
import re
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.test import override_settings
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from wizard.readers import (
    NOT_SUPPORTED,
    ReaderError,
    ReadOptions,
    file_inspect,
    file_sniff_format,
    rows_read,
)
from wizard.readers import core as readers_core
from wizard.readers.header import header_detect, header_names


def write(directory: Path, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def read(path: Path, **options) -> tuple:
    info = file_inspect(path, options=ReadOptions(**options))
    return info, list(rows_read(path, info=info))


def values(path: Path, **options) -> list[list]:
    return [row.values for row in read(path, **options)[1]]


def xlsx(
    path: Path, rows: list[list], *, epoch=None, formats: dict[str, str] | None = None
) -> Path:
    workbook = openpyxl.Workbook()
    if epoch is not None:
        workbook.epoch = epoch
    sheet = workbook.active
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    workbook.save(path)
    return path


# --- sniffing by content ---------------------------------------------------------------------


def test_it_reads_an_xlsx_named_csv_as_xlsx(tmp_path):
    path = xlsx(tmp_path / "export.csv", [["sku", "qty"], ["A-1", 3]])
    assert file_sniff_format(path) == "xlsx"
    info, rows = read(path)
    assert info.format == "xlsx"
    assert info.headers == ["sku", "qty"]
    assert rows[0].values == ["A-1", 3]


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        bytes(range(256)) * 8,
        b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>",
    ],
    ids=["pdf", "png", "gif", "binary", "html"],
)
def test_it_refuses_files_that_are_not_tables(tmp_path, content):
    path = write(tmp_path, "upload.csv", content)
    with pytest.raises(ReaderError) as caught:
        file_inspect(path)
    assert caught.value.message == NOT_SUPPORTED


def test_it_reads_a_csv_whose_header_looks_like_a_file_signature(tmp_path):
    info, rows = read(write(tmp_path, "ids.csv", "ID3,MZ,RIFF\n1,2,3\n"))
    assert info.headers == ["ID3", "MZ", "RIFF"]
    assert rows[0].values == ["1", "2", "3"]


def test_it_refuses_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ReaderError, match="not a CSV, Excel"):
        file_inspect(path)


def test_it_refuses_a_damaged_workbook(tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "this is not xml")
    with pytest.raises(ReaderError, match="could not be read"):
        file_inspect(path)


def test_it_refuses_an_empty_file(tmp_path):
    with pytest.raises(ReaderError, match="empty"):
        file_inspect(write(tmp_path, "empty.csv", b""))
    with pytest.raises(ReaderError, match="empty"):
        file_inspect(write(tmp_path, "blank.csv", b"\r\n\r\n  \n"))


def test_it_sniffs_json_and_json_lines_whatever_the_name(tmp_path):
    array = write(tmp_path, "a.csv", '[{"a": 1}, {"a": 2}]')
    lines = write(tmp_path, "b.txt", '{"a": 1}\n{"a": 2}\n')
    single = write(tmp_path, "c.csv", '{"a": 1,\n "b": 2}')
    assert file_sniff_format(array) == "json"
    assert file_sniff_format(lines) == "jsonl"
    assert file_sniff_format(single) == "json"
    assert values(lines) == [[1], [2]]
    assert values(single) == [[1, 2]]


# --- CSV -------------------------------------------------------------------------------------


def test_it_reads_utf16_be_with_a_bom(tmp_path):
    path = write(tmp_path, "be.csv", "\ufeffname;city\r\nZoë;Zürich\r\n", encoding="utf-16-be")
    info, rows = read(path)
    assert info.encoding == "utf-16-be"
    assert info.delimiter == ";"
    assert info.headers == ["name", "city"]
    assert rows[0].values == ["Zoë", "Zürich"]


def test_it_reads_utf16_le_without_a_bom(tmp_path):
    path = write(tmp_path, "le.csv", "name,city\nAda,London\n", encoding="utf-16-le")
    info, rows = read(path)
    assert info.encoding == "utf-16-le"
    assert rows[0].values == ["Ada", "London"]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Année;Prix;Qualité élevée;Ça va;Müller\n", "cp1252"),
        ("naïve café façade — “quoted” €5;x\n", "cp1252"),
        ("Øresund;Ærø;Åbenrå;Göteborg\n", "cp1252"),
        ("Zażółć gęślą jaźń;Łódź;Kraków\n", "cp1250"),
        ("Привет мир;Москва;Санкт-Петербург\n", "cp1251"),
        ("Ελληνικά κείμενο;Αθήνα\n", "cp1253"),
        ("東京都;大阪府;名古屋市\n", "shift_jis"),
    ],
)
@pytest.mark.parametrize("repeat", [1, 50, 3000])
def test_it_guesses_single_byte_and_legacy_encodings_that_decode_the_text_right(
    tmp_path, text, encoding, repeat
):
    data = (text * repeat).encode(encoding)
    info, rows = read(write(tmp_path, "legacy.csv", data))
    assert data.decode(info.encoding) == data.decode(encoding), info.encoding
    assert info.headers == text.strip().split(";")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_it_detects_each_delimiter(tmp_path, delimiter):
    text = "\n".join(
        delimiter.join(row)
        for row in [["id", "name", "note"], ["1", "Ann", "a, b; c"], ["2", "Bob", ""]]
    )
    text = text.replace("a, b; c", '"a, b; c|d"')
    info, rows = read(write(tmp_path, "d.csv", text + "\n"))
    assert info.delimiter == delimiter
    assert rows[0].values == ["1", "Ann", "a, b; c|d"]


def test_it_lets_every_detected_setting_be_overridden(tmp_path):
    path = write(tmp_path, "x.csv", "Title line\nA;B,C\n1;2,3\n", encoding="latin-1")
    info = file_inspect(path)
    assert (info.delimiter, info.header_row) == (",", 2)
    info, rows = read(path, delimiter=";", header_row=1, encoding="latin-1", format="csv")
    assert (info.encoding, info.delimiter, info.header_row) == ("iso8859-1", ";", 1)
    assert info.headers == ["Title line"]
    assert [row.values for row in rows] == [["A", "B,C"], ["1", "2,3"]]


def test_it_follows_excels_sep_line(tmp_path):
    info, rows = read(write(tmp_path, "sep.csv", "sep=|\nname|note\nAnn|a;b,c\n"))
    assert info.delimiter == "|"
    assert info.headers == ["name", "note"]
    assert rows[0].values == ["Ann", "a;b,c"]


def test_it_guesses_again_when_a_byte_past_the_first_megabyte_is_not_utf8(tmp_path):
    lines = "".join(f"{index},plain ascii text {index}\n" for index in range(60_000))
    path = write(tmp_path, "late.csv", ("id,label\n" + lines + "60000,café\n").encode("cp1252"))
    assert path.stat().st_size > 1024 * 1024
    info, rows = read(path)
    assert info.encoding == "cp1252"
    assert info.warnings[0].startswith(
        "Encoding guessed as cp1252: the file is not UTF-8 (line 60002)"
    )
    assert rows[-1].values == ["60000", "café"]
    with pytest.raises(ReaderError, match="Line 60002: the file is not valid utf-8 text"):
        file_inspect(path, options=ReadOptions(encoding="utf-8"))


def test_it_names_the_line_where_a_quote_never_closes(tmp_path):
    # Past the 4 MB a single value may hold, the reader stops instead of swallowing the file.
    big = "x" * (5 * 1024 * 1024)
    path = write(tmp_path, "q.csv", f'a,b\n1,2\n3,"{big}\n4,5\n')
    with pytest.raises(ReaderError, match=r"Line 3: a quoted value never ends"):
        list(rows_read(path, options=ReadOptions(delimiter=",", header_row=1)))


def test_it_counts_small_files_and_estimates_big_ones(tmp_path, monkeypatch):
    rows = "".join(f"{index},name {index},{index * 3}\n" for index in range(50_000))
    path = write(tmp_path, "n.csv", "id,name,qty\n" + rows)
    info = file_inspect(path)
    assert (info.row_estimate, info.row_count_exact) == (50_000, True)
    monkeypatch.setattr(readers_core, "EXACT_COUNT_BYTES", 300_000)
    info = file_inspect(path)
    assert info.row_count_exact is False
    assert 42_500 < info.row_estimate < 57_500


def _peak_while(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_reading(path: Path) -> int:
    # Inspection reads a bounded prefix (EXACT_COUNT_BYTES) by design; what must not grow with
    # the file is the full pass, so that is what is traced.
    info = file_inspect(path, sample_size=5)

    def drain() -> None:
        for _row in rows_read(path, info=info):
            pass

    return _peak_while(drain)


def test_it_keeps_memory_flat_reading_a_big_csv(tmp_path):
    def make(count: int) -> Path:
        path = tmp_path / f"rows-{count}.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write("id,email,name,amount,when\n")
            for index in range(count):
                handle.write(
                    f'{index},p{index}@example.com,"Name, {index}",{index * 1.5},2024-01-{index % 28 + 1:02d}\n'
                )
        return path

    small, large = make(20_000), make(200_000)
    peak_small, peak_large = _peak_reading(small), _peak_reading(large)
    # Ten times the rows, the same working set (one record, the csv buffers, the sample).
    assert peak_large < peak_small * 1.5 + 256 * 1024, (peak_small, peak_large)


# --- workbooks -------------------------------------------------------------------------------


def test_it_reads_1904_system_serial_dates_as_dates(tmp_path):
    path = xlsx(
        tmp_path / "mac.xlsx",
        [["name", "joined", "serial"], ["Ann", dt.date(2020, 1, 2), 40000]],
        epoch=CALENDAR_MAC_1904,
        formats={"C2": "yyyy-mm-dd"},
    )
    rows = values(path)
    # 40000 days after 1904-01-01 (not 1899-12-30): the workbook's own date system is used.
    assert rows == [["Ann", dt.date(2020, 1, 2), dt.date(2013, 7, 7)]]


def test_it_reads_1904_dates_the_same_when_a_big_sheet_is_streamed(tmp_path, monkeypatch):
    path = xlsx(
        tmp_path / "mac.xlsx",
        [["name", "joined", "at"], ["Ann", dt.date(2020, 1, 2), dt.datetime(2021, 3, 4, 5, 6)]],
        epoch=CALENDAR_MAC_1904,
    )
    fast = values(path)
    monkeypatch.setattr("wizard.readers.excel.CALAMINE_MAX_SHEET_XML_BYTES", 0)
    assert values(path) == fast == [["Ann", dt.date(2020, 1, 2), dt.datetime(2021, 3, 4, 5, 6)]]


def test_it_reads_1900_system_dates_only_when_formatted_as_dates(tmp_path):
    path = xlsx(
        tmp_path / "win.xlsx",
        [["sku", "when", "plain", "code"], ["A", 40000, 40000, "0042"]],
        formats={"B2": "dd/mm/yyyy"},
    )
    assert values(path) == [["A", dt.date(2009, 7, 6), 40000, "0042"]]


ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""

ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Notes"><table:table-row><table:table-cell office:value-type="string"><text:p>ignore me</text:p></table:table-cell></table:table-row></table:table>
<table:table table:name="Stock">
<table:table-row><table:table-cell office:value-type="string"><text:p>Stock count 2024</text:p></table:table-cell></table:table-row>
<table:table-row>
 <table:table-cell office:value-type="string"><text:p>sku</text:p></table:table-cell>
 <table:table-cell office:value-type="string"><text:p>qty</text:p></table:table-cell>
 <table:table-cell office:value-type="string"><text:p>counted</text:p></table:table-cell>
 <table:table-cell office:value-type="string"><text:p>ok</text:p></table:table-cell>
</table:table-row>
<table:table-row>
 <table:table-cell office:value-type="string"><text:p>0042</text:p></table:table-cell>
 <table:table-cell office:value-type="float" office:value="12"><text:p>12</text:p></table:table-cell>
 <table:table-cell office:value-type="date" office:date-value="2024-02-29"><text:p>29/02/2024</text:p></table:table-cell>
 <table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>
</table:table-row>
<table:table-row>
 <table:table-cell office:value-type="string"><text:p>B-7</text:p></table:table-cell>
 <table:table-cell office:value-type="float" office:value="2.5"><text:p>2.5</text:p></table:table-cell>
 <table:table-cell/><table:table-cell/>
</table:table-row>
<table:table-row table:number-rows-repeated="1048572"><table:table-cell table:number-columns-repeated="4"/></table:table-row>
</table:table>
</office:spreadsheet></office:body></office:document-content>"""


def ods(path: Path) -> Path:
    """A minimal OpenDocument spreadsheet as the ODF 1.2 spec lays it out (mimetype stored
    first, manifest, content.xml), including LibreOffice's repeated empty rows to the sheet's
    end. Written by hand so no ODS-writing library is needed just for a fixture."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        # calamine (like LibreOffice's own files) wants no whitespace between cells.
        content = re.sub(r">\s+<", "><", ODS_CONTENT)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_it_reads_the_chosen_sheet_of_an_ods(tmp_path):
    path = ods(tmp_path / "stock.bin")
    assert file_sniff_format(path) == "ods"
    first = file_inspect(path)
    assert first.sheets == ["Notes", "Stock"]
    assert first.headers == ["ignore me"]
    info, rows = read(path, sheet="Stock")
    assert info.header_row == 2
    assert info.headers == ["sku", "qty", "counted", "ok"]
    assert info.row_estimate == 2
    assert [(row.number, row.values) for row in rows] == [
        (3, ["0042", 12, dt.date(2024, 2, 29), True]),
        (4, ["B-7", 2.5, None, None]),
    ]


def padded_xlsx(path: Path) -> Path:
    """Two data rows, then empty styled rows down to Excel's last row, 1,048,576."""
    seed = path.with_suffix(".seed.xlsx")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["name", "qty"])
    sheet.append(["a", 1])
    sheet.append(["b", 2])
    workbook.save(seed)
    padding = "".join(f'<row r="{row}"><c r="A{row}" s="0"/></row>' for row in range(4, 1_048_577))
    with (
        zipfile.ZipFile(seed) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", padding.encode() + b"</sheetData>")
            target.writestr(item, data)
    return path


def test_it_reads_a_sheet_padded_to_a_million_rows_as_its_data(tmp_path):
    path = padded_xlsx(tmp_path / "padded.xlsx")
    info, rows = read(path)
    assert info.row_estimate == 2
    assert info.row_count_exact is True
    assert [row.values for row in rows] == [["a", 1], ["b", 2]]


def _bomb(path: Path, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * size + b">")
    return path


def test_it_refuses_an_archive_bomb_before_opening_it(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx", 40 * 1024 * 1024)
    assert path.stat().st_size < 200 * 1024
    with pytest.raises(ReaderError, match="archive bomb"):
        file_inspect(path)
    with pytest.raises(ReaderError, match="archive bomb"):
        rows_read(path, options=ReadOptions(format="xlsx", header_row=1))


def test_it_refuses_a_workbook_over_the_uncompressed_limit(tmp_path):
    path = xlsx(tmp_path / "ok.xlsx", [["a"], [1]])
    limits = {**settings.FERRY, "MAX_UNCOMPRESSED_BYTES": 1000}
    with override_settings(FERRY=limits), pytest.raises(ReaderError, match="archive bomb"):
        file_inspect(path)
    assert file_inspect(path).headers == ["a"]


def test_it_reads_the_header_row_it_is_told_in_a_workbook(tmp_path):
    path = xlsx(tmp_path / "h.xlsx", [["Report"], ["x", "y"], ["a", "b"], [1, 2]])
    info, rows = read(path, header_row=3)
    assert info.headers == ["a", "b"]
    assert [row.values for row in rows] == [[1, 2]]
    with pytest.raises(ReaderError, match="header row 9 is past the last row"):
        file_inspect(path, options=ReadOptions(header_row=9))


def test_it_finds_the_header_again_when_another_sheet_is_asked(tmp_path):
    path = tmp_path / "two.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["a", "b"])
    workbook.active.append([1, 2])
    other = workbook.create_sheet("Other")
    other.append(["Title"])
    other.append([])
    other.append(["x", "y", "z"])
    other.append([7, 8, 9])
    workbook.save(path)
    info = file_inspect(path)
    rows = list(rows_read(path, options=ReadOptions(sheet="Other"), info=info))
    assert [(row.number, row.values) for row in rows] == [(4, [7, 8, 9])]


def test_it_raises_for_bad_options_at_once_not_while_iterating(tmp_path):
    path = xlsx(tmp_path / "s.xlsx", [["a"], [1]])
    with pytest.raises(ReaderError, match="no sheet named 'Nope'"):
        rows_read(path, options=ReadOptions(sheet="Nope"))


# --- JSON ------------------------------------------------------------------------------------


def test_it_streams_a_big_json_array_exactly_as_json_loads_reads_it(tmp_path):
    records = [
        {
            "id": index,
            "name": f'Name \u00e9\\"{index}"',
            "price": f"{index}.{index % 100:02d}",
            "long": "x" * (70_000 if index in (3, 500) else index % 50),
            "nested": {"city": "Zürich", "geo": {"lat": index / 7}},
            "tags": ["a", index],
        }
        for index in range(2000)
    ]
    text = json.dumps(records, indent=1, ensure_ascii=False)
    path = write(tmp_path, "big.json", text)
    info, rows = read(path)
    assert info.headers == ["id", "name", "price", "long", "nested.city", "nested.geo.lat", "tags"]
    expected = json.loads(text, parse_float=Decimal)
    assert len(rows) == len(expected)
    for row, record in zip(rows, expected, strict=True):
        assert row.values[:5] == [
            record["id"],
            record["name"],
            record["price"],
            record["long"],
            "Zürich",
        ]
        assert row.values[5] == record["nested"]["geo"]["lat"]
        assert json.loads(row.values[6]) == ["a", record["id"]]
    assert [row.number for row in rows[:3]] == [1, 2, 3]


def test_it_keeps_memory_flat_reading_a_big_json_array(tmp_path):
    def make(count: int) -> Path:
        path = tmp_path / f"rows-{count}.json"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("[")
            for index in range(count):
                record = {
                    "id": index,
                    "email": f"p{index}@example.com",
                    "amount": index * 1.5,
                    "tags": {"a": index},
                }
                handle.write(("," if index else "") + json.dumps(record) + "\n")
            handle.write("]")
        return path

    small, large = make(5_000), make(50_000)
    peak_small, peak_large = _peak_reading(small), _peak_reading(large)
    assert peak_large < peak_small * 1.5 + 256 * 1024, (peak_small, peak_large)


def test_it_takes_the_union_of_keys_in_first_seen_order(tmp_path):
    path = write(
        tmp_path, "u.json", '[{"b": 1, "a": {"x": 2}}, {"c": 3, "b": 4}, {}, {"a": {"y": 5}}]'
    )
    info, rows = read(path)
    assert info.headers == ["b", "a.x", "c", "a.y"]
    assert [(row.number, row.values) for row in rows] == [
        (1, [1, 2, None, None]),
        (2, [4, None, 3, None]),
        (4, [None, None, None, 5]),
    ]


def test_it_numbers_json_lines_rows_by_line_and_skips_blank_lines(tmp_path):
    path = write(tmp_path, "l.jsonl", '{"a": 1}\n\n{"a": 2, "b": true}\r\n{"a": null}\n')
    info, rows = read(path)
    assert info.format == "jsonl"
    assert info.headers == ["a", "b"]
    assert [(row.number, row.values) for row in rows] == [(1, [1, None]), (3, [2, True])]


def test_it_keeps_line_separators_inside_json_lines_strings(tmp_path):
    path = write(tmp_path, "sep.jsonl", '{"a": "x\u2028y\u0085z"}\n{"a": "w"}\n')
    assert values(path) == [["x\u2028y\u0085z"], ["w"]]


def test_it_names_the_line_of_invalid_utf8_in_json_lines(tmp_path):
    lines = "".join(f'{{"n": {index}}}\n' for index in range(20_000)).encode()
    path = write(tmp_path, "bad.jsonl", lines + b'{"n": "caf\xe9"}\n')
    with pytest.raises(ReaderError, match="Line 20001: the file is not valid UTF-8 text"):
        list(rows_read(path, options=ReadOptions(format="jsonl")))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a": 1}\n{"a": 2,}\n', r"Line 2, column 9: invalid JSON"),
        ('{"a": 1}\n{"a": NaN}\n', r"Line 2: NaN is not allowed"),
        ('{"a": 1}\n[1, 2]\n', r"Line 2: each line of a JSON Lines file must be an object"),
    ],
)
def test_it_names_the_line_of_a_bad_json_line(tmp_path, content, message):
    path = write(tmp_path, "bad.jsonl", content)
    with pytest.raises(ReaderError, match=message):
        file_inspect(path, options=ReadOptions(format="jsonl"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[\n {"a": 1},\n {"a": 2},\n]', r"Line 4, column 1: a comma before \]"),
        ('[\n {"a": 1},\n {"a": Infinity}\n]', r"Line 3, column 8: Infinity is not allowed"),
        ('[\n {"a": 1}\n {"a": 2}\n]', r"Line 3, column 2: expected , or \] after item 1"),
        ('[\n {"a": 1},\n {"a": 2}', r"ends before the array is closed"),
        ('[{"a": 1}, 2]', r"Item 2 of the array is a value, but the items before it are objects"),
        ('"just text"', r"single value, not a list of records"),
    ],
)
def test_it_rejects_invalid_json_naming_where(tmp_path, content, message):
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(ReaderError, match=message):
        info = file_inspect(path, options=ReadOptions(format="json"))
        list(rows_read(path, info=info))


def test_it_rejects_invalid_utf8_in_json_with_its_line(tmp_path):
    path = write(tmp_path, "bad.json", b'[\n{"a": "ok"},\n{"a": "caf\xe9"}\n]')
    with pytest.raises(ReaderError, match=r"Line 3: the file is not valid UTF-8 text \(byte 0xE9"):
        file_inspect(path)


def test_it_reads_an_array_of_arrays_as_a_table(tmp_path):
    path = write(
        tmp_path, "t.json", '[["Export"], ["id", "name"], [1, "Ann"], [2, "Bob", "extra"]]'
    )
    info, rows = read(path)
    assert info.header_row == 2
    assert info.headers == ["id", "name"]
    assert [(row.number, row.values) for row in rows] == [(3, [1, "Ann"]), (4, [2, "Bob", "extra"])]


def test_it_reads_an_array_of_values_as_one_column(tmp_path):
    info, rows = read(write(tmp_path, "v.json", '["a", 1, null, 2.50]'))
    assert info.headers == ["value"]
    assert [row.values for row in rows] == [["a"], [1], [Decimal("2.50")]]


# --- header detection and names --------------------------------------------------------------


def test_it_skips_titles_blank_rows_and_comments_above_the_header(tmp_path):
    text = "Sales report;;\nGenerated 2024-05-01;;\n\n# exported by ERP\nSKU;Qty;Price\nA-1;2;3,50\nB-2;1;4,00\n"
    info, rows = read(write(tmp_path, "r.csv", text))
    assert (info.delimiter, info.header_row) == (";", 5)
    assert info.headers == ["SKU", "Qty", "Price"]
    assert "Skipped 3 rows above the header (row 5)." in info.warnings
    assert [row.number for row in rows] == [6, 7]


def test_it_reads_no_rows_from_a_file_of_comments(tmp_path):
    info, rows = read(write(tmp_path, "c.csv", "# nothing\n# to see\n\n# here\n"))
    assert info.headers == []
    assert rows == []


def test_it_takes_the_first_row_of_a_plain_table_as_the_header():
    rows = [(1, ["id", "", "name"]), (2, ["1", "x", "Ann"]), (3, ["2", "y", "Bob"])]
    assert header_detect(rows) == 1
    assert header_detect([(1, []), (2, ["  "])]) is None
    assert header_detect([(1, ["only"]), (2, ["one"])]) == 1


def test_it_makes_header_names_unique_and_non_blank():
    assert header_names(["Name", "", "Name", " e-mail\n", None, "Name (2)", 2011, 1.0]) == [
        "Name",
        "Column 2",
        "Name (3)",
        "e-mail",
        "Column 5",
        "Name (2)",
        "2011",
        "1",
    ]


# --- options ---------------------------------------------------------------------------------


def test_it_round_trips_read_options_through_json():
    options = ReadOptions(
        format="TSV", encoding="Latin-1", delimiter="tab", sheet="", header_row="3"
    )
    assert options.as_dict() == {
        "format": "csv",
        "encoding": "iso8859-1",
        "delimiter": "\t",
        "sheet": None,
        "header_row": 3,
    }
    assert ReadOptions.from_dict(json.loads(json.dumps(options.as_dict()))) == options
    assert ReadOptions.from_dict(None) == ReadOptions()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format", "pdf", "Unknown file format 'pdf'"),
        ("encoding", "klingon", "Unknown encoding 'klingon'"),
        ("delimiter", "::", "one character"),
        ("header_row", -1, "1 or more"),
        ("header_row", "two", "must be a row number"),
    ],
)
def test_it_refuses_bad_options_with_a_clear_message(field, value, message):
    with pytest.raises(ReaderError, match=message):
        ReadOptions.from_dict({field: value})


def test_it_round_trips_file_info_through_json(tmp_path):
    path = xlsx(tmp_path / "i.xlsx", [["when", "n"], [dt.date(2024, 1, 2), 1.5]])
    info = file_inspect(path)
    data = json.loads(json.dumps(info.as_dict()))
    assert data["sample_rows"] == [["2024-01-02", 1.5]]
    again = type(info).from_dict(data)
    assert [row.values for row in rows_read(path, info=again)] == [[dt.date(2024, 1, 2), 1.5]]
