"""Table PDF layout read back with pypdf: every value in full, inside its own column."""

from __future__ import annotations

from decimal import Decimal

from pypdf import PdfReader

from business.resources import FieldType as T
from business.writers import Column, writer_for
from business.writers.pdf import fonts

# Contacts as the export prints them: the e-mail is the record's key, so it is a "code" column.
CONTACT_COLUMNS = [
    Column("email", "Email", T.EMAIL, nowrap=True),
    Column("first_name", "First name"),
    Column("last_name", "Last name"),
    Column("account", "Account"),
    Column("phone", "Phone"),
    Column("job_title", "Job title"),
    Column("stage", "Lifecycle stage"),
    Column("source", "Source"),
    Column("no_email", "Do not e-mail", T.BOOLEAN),
    Column("born", "Birth date", T.DATE),
]
LONG = "alexandra.montgomery-whitfield1234@mail.subdomain.example.com"


def contact(i: int, email: str | None = None) -> list:
    return [
        email or f"ada.hughes{i}@example.com",
        "Ada",
        "Hughes",
        "Goldencrest Interiors",
        "+44 7969 810874",
        "Buyer",
        "Prospect",
        "Walk-in",
        False,
        None,
    ]


def write(path, columns, rows, *, options=None):
    writer = writer_for("pdf")(
        path, title="Contacts", organization_name="Acme Ltd", options=options or {}
    )
    writer.section("Contacts", columns)
    for row in rows:
        writer.row(row)
    writer.close()
    return path


def test_a_long_email_prints_in_full_inside_its_column(tmp_path):
    # Longer than any e-mail in the rows that size the columns (it comes after them), and
    # longer than the first rows': it must wrap inside its cell, not run into "Ada".
    rows = [contact(i) for i in range(60)] + [contact(60, LONG)]
    path = write(tmp_path / "c.pdf", CONTACT_COLUMNS, rows)
    reader = PdfReader(path)
    text = "".join(p.extract_text() for p in reader.pages)
    assert LONG in text.replace("\n", "")
    # Laid out as on the page: a value running into the next column reads "…comAda".
    layout = reader.pages[-1].extract_text(extraction_mode="layout")
    rows = [line.split() for line in layout.splitlines() if "Hughes" in line]
    assert rows and all(words[1] == "Ada" for words in rows)


def test_a_long_email_breaks_after_a_separator():
    from business.writers.pdf import wrap

    regular, _ = fonts()
    lines = wrap(LONG, regular, 8, 120)
    assert "".join(lines) == LONG and len(lines) > 1
    assert all(line[-1] in "@.-/_" for line in lines[:-1])


def test_amounts_in_the_currency_only_when_the_table_has_money(tmp_path):
    options = {"currency": "GBP"}
    contacts = write(tmp_path / "c.pdf", CONTACT_COLUMNS, [contact(1)], options=options)
    assert "Amounts in" not in PdfReader(contacts).pages[0].extract_text()
    money = [Column("name", "Name"), Column("limit", "Credit limit", T.MONEY)]
    priced = write(tmp_path / "m.pdf", money, [["Acme", Decimal("10.00")]], options=options)
    page = PdfReader(priced).pages[0].extract_text()
    assert "Amounts in GBP" in page and "Credit limit (GBP)" in page
