"""What one sync run found and did: counts, the keys behind them (capped), row-log messages."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

MAX_DETAIL_KEYS = 1000
# A sync is an import of products: its jobs, change log and undo say so.
SYNC_TARGET = "products"


@dataclass
class SyncReport:
    counts: Counter = field(default_factory=Counter)
    details: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    messages: list[dict] = field(default_factory=list)

    def note(self, kind: str, key: str) -> None:
        if len(self.details[kind]) < MAX_DETAIL_KEYS:
            self.details[kind].append(key)

    def message(self, *, key: str, column: str, text: str, level: str = "warning") -> None:
        self.messages.append(
            dict(row_number=None, column=column[:255], value=key, message=text, level=level)
        )
