"""``manage.py inspect_file FILE``: what the readers see in a file, before anything is imported.

Exit status: 0 the file was read; 1 it cannot be read or an argument is wrong (with --json the
error, too, is the one JSON object printed).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError

from jobs.console import JsonCommand
from wizard.readers import ReaderError, ReadOptions, file_inspect

_DELIMITER_NAMES = {",": "comma (,)", ";": "semicolon (;)", "\t": "tab", "|": "pipe (|)"}


class Command(JsonCommand):
    # Reading a file needs neither the database nor URL checks; skipping them keeps this usable
    # (and fast) on a half-configured machine, which is where people debug their files.
    requires_system_checks = []
    help = (
        "Show what Ferry detects in a CSV, Excel or JSON file: format, encoding, delimiter, "
        "sheets, header row, headers, row count and the first rows. Exit status: 0 read; 1 the "
        "file cannot be read or an argument is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the file to inspect.")
        parser.add_argument(
            "--format",
            help="Read as this format instead of detecting it (csv, xlsx, xls, ods, json, jsonl).",
        )
        parser.add_argument("--sheet", help="Workbook sheet to read (default: the first).")
        parser.add_argument(
            "--encoding", help="Text encoding, e.g. utf-8 or cp1252 (default: detected)."
        )
        parser.add_argument("--delimiter", help="CSV delimiter: , ; | or tab (default: detected).")
        parser.add_argument(
            "--header-row", type=int, help="Row number of the header (1-based; 0 = no header row)."
        )
        parser.add_argument(
            "--rows", type=int, default=5, help="How many first rows to show (default 5)."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object instead of text."
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            read_options = ReadOptions(
                format=options["format"],
                encoding=options["encoding"],
                delimiter=options["delimiter"],
                sheet=options["sheet"],
                header_row=options["header_row"],
            )
            info = file_inspect(path, options=read_options, sample_size=max(options["rows"], 0))
        except ReaderError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps({"file": str(path), **info.as_dict()}, ensure_ascii=False))
            return
        self._print(path, info)

    def _print(self, path: Path, info) -> None:
        write = self.stdout.write
        write(f"File:        {path}")
        write(f"Format:      {info.format}")
        if info.encoding:
            write(f"Encoding:    {info.encoding}")
        if info.delimiter:
            write(f"Delimiter:   {_DELIMITER_NAMES.get(info.delimiter, repr(info.delimiter))}")
        if info.sheets:
            listed = ", ".join(
                f"{name} (chosen)" if name == info.sheet else name for name in info.sheets
            )
            write(f"Sheets:      {listed}")
        if info.keys is None:
            write(f"Header row:  {info.header_row or 'none'}")
        count = f"{info.row_estimate:,}" if info.row_estimate is not None else "unknown"
        write(f"Rows:        {count}{'' if info.row_count_exact else ' (estimated)'}")
        write(f"Columns:     {len(info.headers)}")
        for number, header in enumerate(info.headers, start=1):
            write(f"  {number:>3}. {header}")
        for warning in info.warnings:
            write(self.style.WARNING(f"Warning:     {warning}"))
        if info.sample_rows:
            write("First rows:")
            for row in info.sample_rows:
                write("  " + " | ".join("" if value is None else str(value) for value in row))
