"""Numbers, money and dates as an organization prints them: one place for documents and reports.

The mapping is small and explicit on purpose (no ICU at runtime): a locale gives the decimal
separator, the thousands separator, the date pattern and where the currency goes. Amounts are
Decimal all the way and rounded here half-up, the way invoices are rounded, never through float.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Organization


@dataclass(frozen=True)
class LocaleFormat:
    decimal: str
    thousands: str
    date: str  # strftime pattern
    # "{symbol}{amount}" or "{amount} {symbol}"
    money: str


NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space, the French thousands separator

LOCALES: dict[str, LocaleFormat] = {
    "en-GB": LocaleFormat(".", ",", "%d/%m/%Y", "{symbol}{amount}"),
    "en-US": LocaleFormat(".", ",", "%m/%d/%Y", "{symbol}{amount}"),
    "en-IE": LocaleFormat(".", ",", "%d/%m/%Y", "{symbol}{amount}"),
    "de-DE": LocaleFormat(",", ".", "%d.%m.%Y", "{amount}" + NBSP + "{symbol}"),
    "de-CH": LocaleFormat(".", "’", "%d.%m.%Y", "{symbol}" + NBSP + "{amount}"),
    "fr-FR": LocaleFormat(",", NNBSP, "%d/%m/%Y", "{amount}" + NBSP + "{symbol}"),
    "fr-CH": LocaleFormat(",", NNBSP, "%d.%m.%Y", "{amount}" + NBSP + "{symbol}"),
    "nl-NL": LocaleFormat(",", ".", "%d-%m-%Y", "{symbol}" + NBSP + "{amount}"),
    "it-IT": LocaleFormat(",", ".", "%d/%m/%Y", "{amount}" + NBSP + "{symbol}"),
    "es-ES": LocaleFormat(",", ".", "%d/%m/%Y", "{amount}" + NBSP + "{symbol}"),
}
DEFAULT_LOCALE = "en-GB"

# Symbols where one is universally read; any other ISO 4217 code prints as the code itself.
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥"}
# Minor units per ISO 4217 where they differ from 2.
CURRENCY_PLACES = {"JPY": 0}


def locale_format(code: str | None) -> LocaleFormat:
    return LOCALES.get(code or DEFAULT_LOCALE, LOCALES[DEFAULT_LOCALE])


def currency_places(currency: str) -> int:
    return CURRENCY_PLACES.get(currency, 2)


def quantize(value: Decimal, places: int) -> Decimal:
    """Round half-up to ``places`` decimals (the rounding of invoices)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


def _number(value: Decimal, fmt: LocaleFormat, places: int) -> str:
    rounded = quantize(value, places)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):.{places}f}"
    whole, _, fraction = text.partition(".")
    out = _group(whole, fmt.thousands)
    if places > 0:
        out += fmt.decimal + fraction
    return sign + out


def number_format(
    value: Decimal | int | None, *, organization: Organization | None, places: int = 2
) -> str:
    """``1234.5`` → ``1,234.50`` (en-GB) or ``1.234,50`` (de-DE); None prints as empty."""
    if value is None:
        return ""
    fmt = locale_format(getattr(organization, "locale", None))
    return _number(Decimal(value), fmt, places)


def quantity_format(value: Decimal | int | None, *, organization: Organization | None) -> str:
    """A quantity with only the decimals it needs: 3 → ``3``, 2.500 → ``2.5``."""
    if value is None:
        return ""
    value = Decimal(value)
    normalized = value.normalize()
    places = max(0, -normalized.as_tuple().exponent) if normalized == normalized else 0
    return number_format(value, organization=organization, places=min(places, 3))


def money_format(
    amount: Decimal | int | None,
    *,
    organization: Organization | None,
    currency: str | None = None,
    symbol: bool = True,
) -> str:
    """An amount in the organization's currency and locale: ``£1,234.50``, ``1.234,50 €``."""
    if amount is None:
        return ""
    currency = currency or getattr(organization, "currency", None) or "GBP"
    fmt = locale_format(getattr(organization, "locale", None))
    text = _number(Decimal(amount), fmt, currency_places(currency))
    if not symbol:
        return text
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    return sign + fmt.money.format(symbol=CURRENCY_SYMBOLS.get(currency, currency), amount=text)


def date_format(value: dt.date | dt.datetime | None, *, organization: Organization | None) -> str:
    """A date in the organization's pattern: 31/01/2026 (en-GB), 01/31/2026 (en-US)."""
    if value is None:
        return ""
    fmt = locale_format(getattr(organization, "locale", None))
    return value.strftime(fmt.date)


def percent_format(value: Decimal | None, *, organization: Organization | None) -> str:
    """A rate such as 20 or 7.7 as ``20%`` / ``7.7%``, decimals only where needed."""
    if value is None:
        return ""
    return quantity_format(Decimal(value), organization=organization) + "%"
