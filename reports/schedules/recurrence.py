"""Recurrence rules (RFC 5545 RRULE via dateutil) in a schedule's own IANA time zone.

The rule is expanded in naive local wall-clock time and each occurrence is then placed in the
zone: a time skipped by the spring change (02:30 in Zurich) runs at the first moment after the
gap (03:30), and a time repeated by the autumn change runs once, at its first occurrence.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from jobs.errors import FerryError

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
ALLOWED_FREQ = {DAILY: "DAILY", WEEKLY: "WEEKLY", MONTHLY: "MONTHLY", YEARLY: "YEARLY"}
# Rules are expanded from a fixed local start far enough back for any BYSETPOS/INTERVAL maths.
EPOCH = dt.datetime(2000, 1, 3)  # a Monday
UTC = dt.UTC


class InvalidRecurrence(FerryError):
    def __init__(self, message: str):
        super().__init__(message, code="invalid_recurrence")


class UnknownTimeZone(FerryError):
    def __init__(self, name: str):
        super().__init__(
            f"Unknown time zone '{name}'. Use an IANA name such as Europe/Zurich or "
            "America/New_York.",
            code="unknown_timezone",
        )


def zone_get(name: str) -> ZoneInfo:
    name = (name or "").strip()
    if not name or name not in _zones():
        raise UnknownTimeZone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(name) from exc


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def zone_choices() -> list[str]:
    return sorted(_zones())


def rule_build(
    *,
    frequency: str,
    run_time: dt.time,
    weekdays: list[str] | None = None,
    monthly_mode: str = "day",
    month_day: int | None = None,
    nth: int | None = None,
    nth_weekday: str | None = None,
    custom: str = "",
) -> str:
    """The RRULE text for the form's choices (time of day as BYHOUR/BYMINUTE/BYSECOND)."""
    at = f"BYHOUR={run_time.hour};BYMINUTE={run_time.minute};BYSECOND=0"
    if frequency == "daily":
        text = f"FREQ=DAILY;{at}"
    elif frequency == "weekly":
        days = [d.upper() for d in (weekdays or [])]
        bad = [d for d in days if d not in WEEKDAYS]
        if not days or bad:
            raise InvalidRecurrence("Choose at least one day of the week for a weekly schedule.")
        ordered = [d for d in WEEKDAYS if d in days]
        text = f"FREQ=WEEKLY;BYDAY={','.join(ordered)};{at}"
    elif frequency == "monthly":
        if monthly_mode == "last":
            text = f"FREQ=MONTHLY;BYMONTHDAY=-1;{at}"
        elif monthly_mode == "nth":
            if nth not in ORDINALS or (nth_weekday or "").upper() not in WEEKDAYS:
                raise InvalidRecurrence(
                    "Choose which weekday of the month (e.g. the second Tuesday)."
                )
            text = f"FREQ=MONTHLY;BYDAY={nth:+d}{nth_weekday.upper()};{at}"
        else:
            if month_day is None or not 1 <= int(month_day) <= 31:
                raise InvalidRecurrence("The day of the month must be between 1 and 31.")
            text = f"FREQ=MONTHLY;BYMONTHDAY={int(month_day)};{at}"
    elif frequency == "custom":
        text = custom.strip()
        if text.upper().startswith("RRULE:"):
            text = text[6:]
        if "BYHOUR" not in text.upper():
            text = f"{text};{at}"
    else:
        raise InvalidRecurrence(
            f"Unknown frequency '{frequency}'. Choose daily, weekly or monthly."
        )
    rule_parse(text)
    return text


def rule_parse(text: str) -> rrule:
    """Parse and check an RRULE; InvalidRecurrence with the reason when it is not usable."""
    text = (text or "").strip()
    if not text:
        raise InvalidRecurrence("The recurrence rule is empty.")
    upper = text.upper()
    if "DTSTART" in upper or "\n" in text:
        raise InvalidRecurrence("Give only the RRULE part (FREQ=…;…), without DTSTART.")
    try:
        rule = rrulestr(text, dtstart=EPOCH)
    except (ValueError, TypeError) as exc:
        raise InvalidRecurrence(f"The recurrence rule '{text}' is not valid: {exc}.") from exc
    if not isinstance(rule, rrule):
        raise InvalidRecurrence("Give a single RRULE.")
    if rule._freq not in ALLOWED_FREQ:
        raise InvalidRecurrence(
            "A schedule runs at most once a day per time of day: use FREQ=DAILY, WEEKLY, "
            "MONTHLY or YEARLY."
        )
    if rule.after(EPOCH) is None and rule._until is None and rule._count is None:
        raise InvalidRecurrence(f"The recurrence rule '{text}' never occurs.")
    return rule


def next_run(*, rule: str, tz: str, after: dt.datetime) -> dt.datetime | None:
    """The first occurrence strictly after ``after`` (aware), as an aware UTC datetime."""
    zone = zone_get(tz)
    parsed = rule_parse(rule)
    after_utc = after.astimezone(UTC)
    # Start a day early in local time: around the autumn change the same wall-clock time comes
    # twice, and comparing in UTC (not in wall-clock time) keeps the repeated one from running.
    local = after_utc.astimezone(zone).replace(tzinfo=None) - dt.timedelta(days=1)
    for candidate in parsed.xafter(local, inc=False):
        # fold=0: an ambiguous time is its first occurrence; a skipped time lands after the gap.
        when = candidate.replace(tzinfo=zone).astimezone(UTC)
        if when > after_utc:
            return when
    return None


def upcoming(*, rule: str, tz: str, after: dt.datetime, count: int = 5) -> list[dt.datetime]:
    out: list[dt.datetime] = []
    cursor = after
    while len(out) < count:
        nxt = next_run(rule=rule, tz=tz, after=cursor)
        if nxt is None:
            break
        out.append(nxt)
        cursor = nxt
    return out


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def rule_describe(*, rule: str, tz: str) -> str:
    """In words: "Every Monday at 07:00 Europe/Zurich"."""
    parts = dict(p.split("=", 1) for p in rule.upper().split(";") if "=" in p)
    hours = parts.get("BYHOUR", "0").split(",")
    minutes = parts.get("BYMINUTE", "0").split(",")
    times = _join([f"{int(h):02d}:{int(m):02d}" for h in hours for m in minutes])
    at = f"at {times} {tz}"
    freq = parts.get("FREQ", "")
    interval = int(parts.get("INTERVAL", "1") or 1)
    extra = set(parts) - {"FREQ", "BYHOUR", "BYMINUTE", "BYSECOND", "BYDAY", "BYMONTHDAY", "WKST"}
    if extra or interval != 1:
        return f"Custom rule {rule} {at}"
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    if freq == "DAILY" and not days and "BYMONTHDAY" not in parts:
        return f"Every day {at}"
    if freq in ("WEEKLY", "DAILY") and days and all(d in WEEKDAYS for d in days):
        if [d for d in WEEKDAYS if d in days] == list(WEEKDAYS[:5]) and len(days) == 5:
            return f"Every weekday (Monday to Friday) {at}"
        names = [WEEKDAY_NAMES[WEEKDAYS.index(d)] for d in WEEKDAYS if d in days]
        return f"Every {_join(names)} {at}"
    if freq == "MONTHLY":
        month_days = parts.get("BYMONTHDAY", "")
        if month_days == "-1" and not days:
            return f"On the last day of every month {at}"
        if month_days and not days and month_days.lstrip("-").isdigit():
            return f"On day {int(month_days)} of every month {at}"
        if len(days) == 1 and not month_days:
            day = days[0]
            number, weekday = day[:-2], day[-2:]
            try:
                nth = int(number or 0)
            except ValueError:
                nth = 0
            if nth in ORDINALS and weekday in WEEKDAYS:
                name = WEEKDAY_NAMES[WEEKDAYS.index(weekday)]
                return f"On the {ORDINALS[nth]} {name} of every month {at}"
    return f"Custom rule {rule} {at}"


# --- relative periods ------------------------------------------------------------------------


def period_resolve(*, period: str, tz: str, now: dt.datetime) -> tuple[dt.date, dt.date] | None:
    """The (first, last) day of a relative period, in the schedule's zone at ``now``."""
    if not period:
        return None
    today = now.astimezone(zone_get(tz)).date()
    if period == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    if period == "last_week":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    if period == "last_month":
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    if period == "month_to_date":
        return today.replace(day=1), today
    if period == "today":
        return today, today
    if period == "tomorrow":
        day = today + dt.timedelta(days=1)
        return day, day
    raise InvalidRecurrence(f"Unknown period '{period}'. Choose one of: {PERIOD_NAMES}.")


PERIOD_NAMES = "yesterday, last_week, last_month, month_to_date, today or tomorrow"


def period_text(dates: tuple[dt.date, dt.date] | None) -> str:
    if not dates:
        return ""
    first, last = dates
    if first == last:
        return first.isoformat()
    return f"{first.isoformat()} to {last.isoformat()}"
