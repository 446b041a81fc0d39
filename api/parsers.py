"""Request parsing that refuses text no database can store.

JSON may carry NUL characters (``\\u0000``) and unpaired surrogates (``\\ud800``); PostgreSQL
refuses both in text and jsonb columns (SQLite stores them), so they would surface as a
server error on one database only. They are refused up front as a 400 instead.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def unstorable_text(value: Any) -> str | None:
    """A description of the first string that cannot be stored, or None when all can."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "a NUL character (\\u0000)"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "an unpaired surrogate (not valid Unicode)"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        problem = unstorable_text(data)
        if problem:
            raise ParseError(f"JSON parse error - the body contains {problem}.")
        return data
