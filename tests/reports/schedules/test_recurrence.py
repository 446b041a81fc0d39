"""Recurrence in the schedule's own zone, across daylight-saving changes (time injected)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from reports.schedules.recurrence import (
    InvalidRecurrence,
    UnknownTimeZone,
    next_run,
    period_resolve,
    rule_build,
    rule_describe,
    upcoming,
)

UTC = dt.UTC
DAILY_0230 = "FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0"
DAILY_0700 = "FREQ=DAILY;BYHOUR=7;BYMINUTE=0;BYSECOND=0"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(when: dt.datetime, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def test_it_keeps_07_00_local_across_the_spring_change_in_zurich():
    runs = upcoming(rule=DAILY_0700, tz="Europe/Zurich", after=utc(2026, 3, 28, 12), count=2)
    # CET (UTC+1) on Saturday, CEST (UTC+2) from Sunday 29 March.
    assert runs == [utc(2026, 3, 29, 5), utc(2026, 3, 30, 5)]
    assert [local(r, "Europe/Zurich") for r in runs] == [
        "2026-03-29 07:00 CEST",
        "2026-03-30 07:00 CEST",
    ]
    before = next_run(rule=DAILY_0700, tz="Europe/Zurich", after=utc(2026, 3, 27, 12))
    assert before == utc(2026, 3, 28, 6)


def test_it_runs_a_time_skipped_by_the_spring_change_once_after_the_gap_in_zurich():
    runs = upcoming(rule=DAILY_0230, tz="Europe/Zurich", after=utc(2026, 3, 28, 12), count=2)
    # 02:30 does not exist on 29 March: it runs at 03:30 CEST, once.
    assert local(runs[0], "Europe/Zurich") == "2026-03-29 03:30 CEST"
    assert local(runs[1], "Europe/Zurich") == "2026-03-30 02:30 CEST"


def test_it_runs_a_time_repeated_by_the_autumn_change_once_in_zurich():
    runs = upcoming(rule=DAILY_0230, tz="Europe/Zurich", after=utc(2026, 10, 24, 12), count=2)
    assert runs == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    # Asked during the repeated hour (02:10 CET, the second time), the 02:30 that already ran
    # at 02:30 CEST is not run again.
    during = utc(2026, 10, 25, 1, 10)
    assert next_run(rule=DAILY_0230, tz="Europe/Zurich", after=during) == utc(2026, 10, 26, 1, 30)


def test_it_keeps_07_00_local_across_both_changes_in_new_york():
    spring = upcoming(rule=DAILY_0700, tz="America/New_York", after=utc(2026, 3, 7, 20), count=2)
    assert spring == [utc(2026, 3, 8, 11), utc(2026, 3, 9, 11)]  # EST → EDT on 8 March
    autumn = upcoming(rule=DAILY_0700, tz="America/New_York", after=utc(2026, 10, 31, 20), count=2)
    assert autumn == [utc(2026, 11, 1, 12), utc(2026, 11, 2, 12)]  # EDT → EST on 1 November
    assert local(autumn[0], "America/New_York") == "2026-11-01 07:00 EST"


def test_it_handles_the_new_york_gap_and_overlap_at_01_30_and_02_30():
    gap = next_run(
        rule="FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0",
        tz="America/New_York",
        after=utc(2026, 3, 8, 5),
    )
    assert local(gap, "America/New_York") == "2026-03-08 03:30 EDT"
    rule = "FREQ=DAILY;BYHOUR=1;BYMINUTE=30;BYSECOND=0"
    runs = upcoming(rule=rule, tz="America/New_York", after=utc(2026, 10, 31, 20), count=2)
    assert runs == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_it_builds_weekly_monthly_last_day_and_second_tuesday_rules():
    at = dt.time(7, 0)
    weekly = rule_build(frequency="weekly", run_time=at, weekdays=["we", "MO"])
    assert weekly == "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=7;BYMINUTE=0;BYSECOND=0"
    assert rule_describe(rule=weekly, tz="Europe/Zurich") == (
        "Every Monday and Wednesday at 07:00 Europe/Zurich"
    )
    last = rule_build(frequency="monthly", run_time=at, monthly_mode="last")
    assert next_run(rule=last, tz="UTC", after=utc(2026, 2, 2)) == utc(2026, 2, 28, 7)
    assert rule_describe(rule=last, tz="UTC") == "On the last day of every month at 07:00 UTC"
    second = rule_build(
        frequency="monthly", run_time=at, monthly_mode="nth", nth=2, nth_weekday="TU"
    )
    assert upcoming(rule=second, tz="UTC", after=utc(2026, 3, 1), count=2) == [
        utc(2026, 3, 10, 7),
        utc(2026, 4, 14, 7),
    ]
    assert rule_describe(rule=second, tz="UTC") == (
        "On the second Tuesday of every month at 07:00 UTC"
    )
    day = rule_build(frequency="monthly", run_time=at, month_day=15)
    assert rule_describe(rule=day, tz="UTC") == "On day 15 of every month at 07:00 UTC"
    weekly_monday = rule_build(frequency="weekly", run_time=at, weekdays=["MO"])
    assert rule_describe(rule=weekly_monday, tz="Europe/Zurich") == (
        "Every Monday at 07:00 Europe/Zurich"
    )


def test_it_accepts_an_advanced_rule_and_describes_it_as_custom():
    rule = rule_build(
        frequency="custom",
        run_time=dt.time(18, 0),
        custom="RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    )
    # The last working day of the month.
    assert next_run(rule=rule, tz="UTC", after=utc(2026, 5, 1)) == utc(2026, 5, 29, 18)
    assert rule_describe(rule=rule, tz="UTC").startswith("Custom rule")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequency": "custom", "custom": "FREQ=SOMETIMES"}, "not valid"),
        ({"frequency": "custom", "custom": "FREQ=MINUTELY"}, "at most once a day"),
        ({"frequency": "custom", "custom": "DTSTART:20260101T000000\nRRULE:FREQ=DAILY"}, "DTSTART"),
        ({"frequency": "weekly", "weekdays": []}, "at least one day"),
        ({"frequency": "monthly", "month_day": 32}, "between 1 and 31"),
        ({"frequency": "hourly"}, "Unknown frequency"),
    ],
)
def test_it_refuses_invalid_recurrences_with_a_reason(kwargs, message):
    with pytest.raises(InvalidRecurrence) as exc:
        rule_build(run_time=dt.time(7), **kwargs)
    assert message in exc.value.message


def test_it_refuses_an_unknown_time_zone():
    with pytest.raises(UnknownTimeZone) as exc:
        next_run(rule=DAILY_0700, tz="Europe/Atlantis", after=utc(2026, 1, 1))
    assert "Europe/Atlantis" in exc.value.message and "IANA" in exc.value.message


def test_it_resolves_relative_periods_in_the_schedules_zone():
    # 23:30 UTC on Sunday 1 March is already Monday 2 March in Zurich.
    now = utc(2026, 3, 1, 23, 30)
    assert period_resolve(period="yesterday", tz="Europe/Zurich", now=now) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 1),
    )
    assert period_resolve(period="yesterday", tz="UTC", now=now) == (
        dt.date(2026, 2, 28),
        dt.date(2026, 2, 28),
    )
    assert period_resolve(period="last_week", tz="Europe/Zurich", now=now) == (
        dt.date(2026, 2, 23),
        dt.date(2026, 3, 1),
    )
    assert period_resolve(period="last_month", tz="Europe/Zurich", now=now) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    assert period_resolve(period="month_to_date", tz="Europe/Zurich", now=now) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
    )
