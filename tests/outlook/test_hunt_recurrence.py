"""Recurring events written to Outlook in a session zone other than the event's own zone:
the deleted occurrences must come back as the same days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxsync.adapters.outlook import OutlookStore
from oxsync.core.records import Event, FolderKind, Frequency, ItemKind, Recurrence, Weekday
from oxsync.core.store import Applied, Create, Item
from oxsync.mappings import outlook
from oxsync.mappings.recurrence import event_occurrences
from oxsync.testing.outlook import Application
from tests.outlook.helpers import default

ZONES = ("Europe/Paris", "America/New_York", "Pacific/Fiji", "Asia/Kolkata", "UTC")


def _daily(zone: str, day: date, wall: time, count: int = 10) -> Event:
    start = datetime.combine(day, wall, ZoneInfo(zone)).astimezone(UTC)
    return Event(
        summary="Daily",
        start=start,
        end=start + timedelta(minutes=30),
        timezone=zone,
        recurrence=Recurrence(frequency=Frequency.DAILY, count=count),
    )


def _as_outlook_reports(props: dict[str, object]) -> dict[str, object]:
    """What Outlook gives back for a deleted occurrence: its local date, no time."""
    exceptions = []
    for item in props["_exceptions"]:  # type: ignore[attr-defined]
        if item["Deleted"]:
            original = item["OriginalDate"]
            item = dict(item, OriginalDate=datetime.combine(original.date(), time()))
        exceptions.append(item)
    return dict(props, _exceptions=exceptions)


@settings(max_examples=80, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    session=st.sampled_from(ZONES),
    day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    wall=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    picked=st.sets(st.integers(0, 9), max_size=4),
)
def test_deleted_occurrences_keep_their_day_in_another_session_zone(
    zone: str, session: str, day: date, wall: time, picked: set[int]
) -> None:
    series = _daily(zone, day, wall)
    days = [o.astimezone(ZoneInfo(zone)).date() for o in event_occurrences(series)]  # type: ignore[union-attr]
    deleted = tuple(sorted(days[i] for i in picked))
    series = attrs.evolve(series, recurrence=attrs.evolve(series.recurrence, deleted=deleted))
    tz = ZoneInfo(session)
    props = _as_outlook_reports(outlook.to_outlook(series, tz=tz))
    got = outlook.from_outlook(ItemKind.EVENT, props, tz=tz)
    assert got.recurrence is not None
    assert got.recurrence.deleted == deleted


def test_deleted_first_occurrence_of_a_new_york_series_in_a_paris_outlook() -> None:
    store = OutlookStore(Application(tz="Europe/Paris", list_separator=";"))
    folder = default(store, FolderKind.CALENDAR)
    # 00:00 in New York is 06:00 in Paris: same day there, the day before seen from Paris
    series = _daily("America/New_York", date(2027, 1, 4), time(0, 0), count=5)
    first = date(2027, 1, 4)
    series = attrs.evolve(series, recurrence=attrs.evolve(series.recurrence, deleted=(first,)))
    (applied,) = store.apply(folder, [Create(series)])
    assert isinstance(applied, Applied), applied
    got = store.fetch(folder, [applied.id])[applied.id]
    assert isinstance(got, Item), got
    assert got.record.recurrence is not None
    assert got.record.recurrence.deleted == (first,)
    assert event_occurrences(got.record) == event_occurrences(series)


def test_a_new_york_weekly_series_keeps_its_days_in_a_paris_outlook() -> None:
    # Outlook reads a pattern's days and StartTime in StartTimeZone (RecurrencePattern.
    # StartTime in the object model's documentation); the fake expanded patterns on the
    # session's clock and the adapter wrote PatternStartDate as the session's date: the
    # series came back a week late and an hour off
    store = OutlookStore(Application(tz="Europe/Paris", list_separator=";"))
    folder = default(store, FolderKind.CALENDAR)
    # Tuesdays 20:00 in New York: Wednesdays 02:00 in Paris (01:00 while only the US
    # has moved to summer time)
    start = datetime(2027, 3, 2, 20, tzinfo=ZoneInfo("America/New_York"))
    series = Event(
        summary="Weekly",
        start=start.astimezone(UTC),
        end=start.astimezone(UTC) + timedelta(hours=1),
        timezone="America/New_York",
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=Weekday.TUESDAY, count=6),
    )
    (applied,) = store.apply(folder, [Create(series)])
    assert isinstance(applied, Applied), applied
    got = store.fetch(folder, [applied.id])[applied.id]
    assert isinstance(got, Item), got
    assert event_occurrences(got.record) == event_occurrences(series)


@pytest.mark.parametrize("session", ["Europe/Paris", "Asia/Tokyo", "America/Los_Angeles"])
def test_exceptions_of_a_series_in_another_zone_come_back_on_their_occurrences(
    session: str,
) -> None:
    # GetOccurrence and the deleted dates go by session-local days; the pattern's by the
    # series' zone: both must name the same occurrences
    from oxsync.core.records import EventException

    store = OutlookStore(Application(tz=session, list_separator=";"))
    folder = default(store, FolderKind.CALENDAR)
    zone = ZoneInfo("America/New_York")
    first = datetime(2027, 3, 2, 20, tzinfo=zone)  # the US moves to summer time on Mar 14
    third = (first + timedelta(weeks=2)).astimezone(UTC)
    fourth = datetime(2027, 3, 23, 20, tzinfo=zone).astimezone(UTC)
    series = Event(
        uid="cross-zone",
        summary="Weekly",
        start=first.astimezone(UTC),
        end=first.astimezone(UTC) + timedelta(hours=1),
        timezone="America/New_York",
        recurrence=Recurrence(
            frequency=Frequency.WEEKLY,
            weekdays=Weekday.TUESDAY,
            count=6,
            deleted=(date(2027, 3, 9),),
        ),
        exceptions=(
            EventException(
                original_start=third,
                summary="Moved",
                start=third + timedelta(hours=1),
                end=third + timedelta(hours=2),
            ),
            EventException(original_start=fourth, location="Elsewhere"),
        ),
    )
    (applied,) = store.apply(folder, [Create(series)])
    assert isinstance(applied, Applied), applied
    got = store.fetch(folder, [applied.id])[applied.id]
    assert isinstance(got, Item), got
    record = got.record
    assert event_occurrences(record) == event_occurrences(series)
    assert record.recurrence is not None
    assert record.recurrence.deleted == (date(2027, 3, 9),)
    assert {(e.original_start, e.summary, e.location) for e in record.exceptions} == {
        (third, "Moved", None),
        (fourth, None, "Elsewhere"),
    }
