"""Zones are kept and wall-clock times never move, across DST changes too."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oxsync.core import records as r
from oxsync.mappings.ical import event_to_ical, ical_to_records
from oxsync.mappings.recurrence import occurrences

# (zone, a local date-time just before the zone's DST change, a week later)
CASES = [
    ("Europe/Paris", datetime(2026, 3, 23, 9, 0), datetime(2026, 3, 30, 9, 0)),
    (
        "America/New_York",
        datetime(2026, 11, 2, 9, 0) - timedelta(days=7),
        datetime(2026, 11, 2, 9, 0),
    ),
    ("Pacific/Fiji", datetime(2019, 11, 4, 9, 0), datetime(2019, 11, 11, 9, 0)),
]


@pytest.mark.parametrize(("zone", "before", "after"), CASES, ids=[c[0] for c in CASES])
def test_weekly_series_keeps_its_wall_clock_across_dst(
    zone: str, before: datetime, after: datetime
) -> None:
    tz = ZoneInfo(zone)
    start = before.replace(tzinfo=tz)
    rule = r.Recurrence(
        frequency=r.Frequency.WEEKLY, weekdays=r.Weekday.MONDAY, count=4, deleted=(after.date(),)
    )
    event = r.Event(
        uid=f"dst-{zone}",
        start=start.astimezone(ZoneInfo("UTC")),
        end=(start + timedelta(hours=1)).astimezone(ZoneInfo("UTC")),
        timezone=zone,
        recurrence=rule,
    )
    data = event_to_ical(event)
    local = before.strftime("%Y%m%dT%H%M%S")
    assert f"DTSTART;TZID={zone}:{local}".encode() in data
    # the deleted occurrence is at 09:00 local after the change, not 09:00 shifted
    assert f"EXDATE;TZID={zone}:{after.strftime('%Y%m%dT%H%M%S')}".encode() in data
    (back,) = ical_to_records(data)
    assert isinstance(back, r.Event)
    assert back == event
    assert back.start.astimezone(tz).hour == 9
    # the offsets differ across the change, the wall clock does not
    assert before.replace(tzinfo=tz).utcoffset() != after.replace(tzinfo=tz).utcoffset()


def test_all_day_dates_do_not_shift_in_far_east_or_west_zones() -> None:
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        event = r.Event(
            uid="d", start=date(2026, 3, 29), end=date(2026, 3, 30), all_day=True, timezone=zone
        )
        (back,) = ical_to_records(event_to_ical(event))
        assert back == event


def test_expanded_occurrences_match_the_written_rule() -> None:
    tz = ZoneInfo("Europe/Paris")
    start = datetime(2026, 3, 23, 9, 0, tzinfo=tz)
    event = r.Event(
        uid="x",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Paris",
        recurrence=r.Recurrence(frequency=r.Frequency.WEEKLY, weekdays=r.Weekday.MONDAY, count=3),
    )
    (back,) = ical_to_records(event_to_ical(event))
    assert isinstance(back, r.Event) and back.recurrence is not None
    starts = occurrences(back.start.astimezone(tz), back.recurrence)
    hours = [o.astimezone(tz).hour for o in starts if isinstance(o, datetime)]
    assert hours == [9, 9, 9]
