"""Recurrence: each pattern kind in OX, Outlook and RRULE form; expansion across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from dateutil import rrule as du

from oxsync.core.records import Event, Frequency, Recurrence, Weekday
from oxsync.errors import MappingError
from oxsync.mappings import recurrence as rec

MO, WE, FR = Weekday.MONDAY, Weekday.WEDNESDAY, Weekday.FRIDAY
WORKDAYS = 62

# (rule, OX fields, Outlook pattern subset, RRULE)
PATTERNS = [
    (
        Recurrence(frequency=Frequency.DAILY, interval=3, count=10),
        {"recurrence_type": "daily", "interval": 3, "occurrences": 10},
        {"RecurrenceType": 0, "Interval": 3, "Occurrences": 10, "NoEndDate": False},
        "FREQ=DAILY;INTERVAL=3;COUNT=10",
    ),
    (
        Recurrence(frequency=Frequency.WEEKLY, interval=2, weekdays=MO | WE | FR),
        {"recurrence_type": "weekly", "interval": 2, "days": 42},
        {"RecurrenceType": 1, "Interval": 2, "DayOfWeekMask": 42, "NoEndDate": True},
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR",
    ),
    (
        Recurrence(frequency=Frequency.MONTHLY, day_of_month=15, until=date(2026, 12, 31)),
        {"recurrence_type": "monthly", "interval": 1, "day_in_month": 15,
         "until": date(2026, 12, 31)},
        {"RecurrenceType": 2, "DayOfMonth": 15, "PatternEndDate": datetime(2026, 12, 31)},
        "FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20261231",
    ),
    (
        Recurrence(frequency=Frequency.MONTHLY, weekdays=Weekday.TUESDAY, nth=2),
        {"recurrence_type": "monthly", "interval": 1, "days": 4, "day_in_month": 2},
        {"RecurrenceType": 3, "DayOfWeekMask": 4, "Instance": 2},
        "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
    ),
    (
        Recurrence(frequency=Frequency.MONTHLY, weekdays=WORKDAYS, nth=5),
        {"recurrence_type": "monthly", "interval": 1, "days": 62, "day_in_month": 5},
        {"RecurrenceType": 3, "DayOfWeekMask": 62, "Instance": 5},
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    ),
    (
        Recurrence(frequency=Frequency.YEARLY, month=1, day_of_month=31),
        {"recurrence_type": "yearly", "interval": 1, "month": 0, "day_in_month": 31},
        {"RecurrenceType": 5, "MonthOfYear": 1, "DayOfMonth": 31},
        "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31",
    ),
    (
        Recurrence(frequency=Frequency.YEARLY, month=12, weekdays=Weekday.SUNDAY, nth=5),
        {"recurrence_type": "yearly", "interval": 1, "month": 11, "days": 1, "day_in_month": 5},
        {"RecurrenceType": 6, "MonthOfYear": 12, "DayOfWeekMask": 1, "Instance": 5},
        "FREQ=YEARLY;BYMONTH=12;BYDAY=SU;BYSETPOS=-1",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "ox", "pattern", "rrule"), PATTERNS)
def test_pattern_in_ox_form(rule, ox, pattern, rrule):
    assert rec.to_ox(rule) == ox
    assert rec.from_ox(ox) == rule


@pytest.mark.parametrize(("rule", "ox", "pattern", "rrule"), PATTERNS)
def test_pattern_in_outlook_form(rule, ox, pattern, rrule):
    out = rec.to_outlook(rule, date(2026, 1, 5))
    assert {k: out[k] for k in pattern} == pattern
    assert out["PatternStartDate"] == datetime(2026, 1, 5)
    assert rec.from_outlook(out) == rule


@pytest.mark.parametrize(("rule", "ox", "pattern", "rrule"), PATTERNS)
def test_pattern_in_rrule_form(rule, ox, pattern, rrule):
    assert rec.to_rrule(rule) == rrule
    assert rec.from_rrule("RRULE:" + rrule) == rule


def test_ox_month_is_zero_based_both_ways():
    assert rec.to_ox(Recurrence(frequency=Frequency.YEARLY, month=3, day_of_month=1))["month"] == 2
    got = rec.from_ox({"recurrence_type": "yearly", "month": 0, "day_in_month": 1})
    assert got is not None and got.month == 1
    with pytest.raises(MappingError, match=r"recurrence\.month"):
        rec.from_ox({"recurrence_type": "yearly", "month": 12, "day_in_month": 1})


def test_last_weekday_is_bysetpos_minus_one_and_reads_from_ordinal_form():
    last_friday = Recurrence(frequency=Frequency.MONTHLY, weekdays=FR, nth=5)
    assert rec.from_rrule("FREQ=MONTHLY;BYDAY=-1FR") == last_friday
    assert rec.from_rrule("FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1") == last_friday
    assert rec.from_rrule("FREQ=MONTHLY;BYDAY=2TU") == Recurrence(
        frequency=Frequency.MONTHLY, weekdays=Weekday.TUESDAY, nth=2
    )


def test_every_n_years_goes_to_ox_as_every_12n_months_with_the_same_dates():
    every_2y = Recurrence(frequency=Frequency.YEARLY, interval=2, month=6, day_of_month=10, count=4)
    ox = rec.to_ox(every_2y)
    assert ox["recurrence_type"] == "monthly" and ox["interval"] == 24
    back = rec.from_ox(ox)
    assert back is not None
    start = datetime(2026, 6, 10, 9, tzinfo=ZoneInfo("Europe/Paris"))
    assert rec.occurrences(start, back) == rec.occurrences(start, every_2y)


def test_weekday_only_daily_outlook_pattern_is_a_weekly_mask():
    rule = rec.from_outlook({"RecurrenceType": 0, "DayOfWeekMask": WORKDAYS, "Interval": 1})
    assert rule.frequency is Frequency.WEEKLY and rule.weekdays == WORKDAYS
    assert rec.from_rrule("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR").weekdays == WORKDAYS


def test_deleted_occurrences_travel_in_ox_and_as_exdates():
    rule = Recurrence(
        frequency=Frequency.DAILY, count=5, deleted=(date(2026, 3, 30), date(2026, 3, 28))
    )
    assert rec.to_ox(rule)["deleteexceptions"] == (date(2026, 3, 28), date(2026, 3, 30))
    start = datetime(2026, 3, 27, 9, tzinfo=ZoneInfo("Europe/Paris"))
    assert rec.exdates(rule, start) == [
        datetime(2026, 3, 30, 9, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2026, 3, 28, 9, tzinfo=ZoneInfo("Europe/Paris")),
    ]
    got = rec.occurrences(start, rule)
    assert [o.day for o in got] == [27, 29, 31]


def test_rrule_until_is_utc_end_of_day_for_timed_series():
    rule = Recurrence(frequency=Frequency.DAILY, until=date(2026, 7, 1))
    start = datetime(2026, 6, 1, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    text = rec.to_rrule(rule, start)
    assert text == "FREQ=DAILY;UNTIL=20260702T035959Z"
    assert rec.from_rrule(text, start) == rule
    last = rec.occurrences(start, rule)[-1]
    assert last == datetime(2026, 7, 1, 23, 30, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    "bad",
    ["FREQ=HOURLY", "FREQ=MONTHLY;BYMONTHDAY=1,15", "FREQ=MONTHLY;BYDAY=-2MO", "FREQ=WEEKLY;X=1"],
)
def test_unsupported_rrules_raise_mapping_error(bad):
    with pytest.raises(MappingError):
        rec.from_rrule(bad, date(2026, 1, 1))


def test_rrule_errors_name_every_bad_part():
    with pytest.raises(MappingError) as info:
        rec.from_rrule("FREQ=WEEKLY;INTERVAL=x;COUNT=y;BYHOUR=3")
    paths = {e.path for e in info.value.errors}
    assert {"recurrence.interval", "recurrence.count", "recurrence"} <= paths


# --------------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("zone", "first", "before", "after"),
    [
        # Paris: +1 -> +2 on 2026-03-29
        ("Europe/Paris", datetime(2026, 3, 23, 9), timedelta(hours=1), timedelta(hours=2)),
        # New York: -5 -> -4 on 2026-03-08
        ("America/New_York", datetime(2026, 3, 2, 9), timedelta(hours=-5), timedelta(hours=-4)),
        # Fiji observed DST from 2019-11-10 (+12 -> +13)
        ("Pacific/Fiji", datetime(2019, 11, 4, 9), timedelta(hours=12), timedelta(hours=13)),
    ],
)
def test_weekly_series_keeps_its_wall_clock_across_dst(zone, first, before, after):
    tz = ZoneInfo(zone)
    rule = Recurrence(frequency=Frequency.WEEKLY, weekdays=MO, count=3)
    got = rec.occurrences(first.replace(tzinfo=tz), rule)
    assert [(o.hour, o.minute) for o in got] == [(9, 0)] * 3
    assert got[0].utcoffset() == before
    assert got[-1].utcoffset() == after
    # every occurrence is a real instant 7 days apart on the wall clock, not in UTC
    assert got[1].astimezone(UTC) - got[0].astimezone(UTC) == timedelta(days=7) - (after - before)


def test_event_occurrences_expand_in_the_event_zone_not_utc():
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 3, 28, 9, tzinfo=paris).astimezone(UTC)  # stored as UTC
    event = Event(
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Paris",
        recurrence=Recurrence(frequency=Frequency.DAILY, count=2),
    )
    got = rec.event_occurrences(event)
    assert [o.astimezone(paris).hour for o in got] == [9, 9]


def test_occurrence_in_a_spring_forward_gap_moves_forward():
    paris = ZoneInfo("Europe/Paris")
    rule = Recurrence(frequency=Frequency.DAILY, count=3)
    got = rec.occurrences(datetime(2026, 3, 28, 2, 30, tzinfo=paris), rule)
    assert got[1].astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_all_day_series_gives_dates_and_honours_bounds():
    rule = Recurrence(frequency=Frequency.MONTHLY, day_of_month=31)
    got = rec.occurrences(date(2026, 1, 31), rule, between=(date(2026, 1, 1), date(2026, 12, 31)))
    assert got == [date(2026, m, 31) for m in (1, 3, 5, 7, 8, 10, 12)]


def test_endless_series_needs_bounds():
    with pytest.raises(ValueError, match="bounds"):
        rec.occurrences(date(2026, 1, 1), Recurrence(frequency=Frequency.DAILY))


def test_expansion_agrees_with_dateutil_parsing_our_rrule_text():
    tz = ZoneInfo("America/New_York")
    start = datetime(2026, 1, 6, 18, tzinfo=tz)
    for rule, *_ in PATTERNS:
        bounded = rule if (rule.count or rule.until) else attrs.evolve(rule, count=12)
        text = rec.to_rrule(bounded, start)
        expected = list(du.rrulestr(text, dtstart=start))
        assert rec.occurrences(start, bounded) == expected, text
