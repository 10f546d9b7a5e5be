"""Series writes through the OX store that meet an appointment clash: the clash is
warned about once, never a refusal of the series' own edit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from oxsync.adapters.ox import OXStore
from oxsync.core.records import Event, EventException, FolderKind, Frequency, Recurrence
from oxsync.core.store import Applied, Create, Item, Update

START = datetime(2027, 3, 1, 9, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)


def _calendar(store: OXStore) -> str:
    return next(f.id for f in store.folders() if f.kind is FolderKind.CALENDAR and f.is_default)


def _series() -> Event:
    return Event(
        uid="daily",
        summary="Standup",
        start=START,
        end=START + timedelta(minutes=30),
        timezone="Europe/Paris",
        recurrence=Recurrence(frequency=Frequency.DAILY, count=5),
    )


def _moved(series: Event, n: int, to: datetime) -> EventException:
    return EventException(
        original_start=series.start + n * DAY, start=to, end=to + timedelta(minutes=30)
    )


def test_an_occurrence_given_back_to_a_series_that_clashes_is_restored(store: OXStore) -> None:
    calendar = _calendar(store)
    # the series' first occurrence clashes with a meeting (saved with a warning)
    meeting = Event(uid="meeting", summary="Board", start=START, end=START + timedelta(hours=1))
    assert isinstance(store.apply(calendar, [Create(meeting)])[0], Applied)
    series = _series()
    moved = attrs.evolve(
        series, exceptions=(_moved(series, 2, START + 2 * DAY + timedelta(hours=3)),)
    )
    (first,) = store.apply(calendar, [Create(moved)])
    assert isinstance(first, Applied), first
    # the change is dropped: the occurrence is the series' again (the series is sent
    # once more so that OX does not keep the day deleted)
    (applied,) = store.apply(calendar, [Update(first.id, series, first.version)])
    assert isinstance(applied, Applied), applied
    got = store.fetch(calendar, [applied.id])[applied.id]
    assert isinstance(got, Item), got
    assert got.record.exceptions == ()
    assert got.record.recurrence == series.recurrence
