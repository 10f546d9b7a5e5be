"""Exception objects <-> ``EventException``: a property over generated series and a table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given

from oxsync.adapters.ox._codec import new_prop
from oxsync.adapters.ox._series import (
    composite_version,
    date_position,
    exception_event,
    exception_from,
    exception_object,
    original_start,
    series_stamp,
)
from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.mappings import ox_xml
from oxsync.testing.strategies import events


def _through_ox(event: r.Event) -> r.Event:
    prop = new_prop()
    ox_xml.encode(event, prop, full=False)
    decoded = ox_xml.decode(ItemKind.EVENT, prop)
    assert isinstance(decoded, r.Event)
    return decoded


def _expected(series: r.Event, change: r.EventException) -> r.EventException | None:
    """What OX can say about an exception: only what differs from its series (a value
    equal to the series' own, or a time equal to the occurrence's, reads as unchanged)."""
    if change.busy_status is not None:  # OX has no "working elsewhere": read as busy
        busy = _through_ox(attrs.evolve(series, busy_status=change.busy_status)).busy_status
        change = attrs.evolve(change, busy_status=busy)
    fields: dict[str, object] = {
        name: getattr(change, name)
        for name in ("summary", "location", "note", "busy_status")
        if getattr(change, name) is not None and getattr(change, name) != getattr(series, name)
    }
    length = series.end - series.start
    start = change.start if change.start is not None else change.original_start
    end = change.end if change.end is not None else start + length
    if (start, end) != (change.original_start, change.original_start + length):
        fields["start"], fields["end"] = start, end
    if not fields:
        return None
    return r.EventException(original_start=change.original_start, **fields)  # type: ignore[arg-type]


@given(events().filter(lambda e: bool(e.exceptions)))
def test_exception_objects_round_trip(event: r.Event) -> None:
    series = _through_ox(event)  # the series as OX keeps it (no exceptions in its XML)
    for change in event.exceptions:
        position = date_position(series, change.original_start)
        assert original_start(series, position) == change.original_start
        prop = new_prop()
        ox_xml.encode(exception_event(series, change), prop, full=False)
        occurrence = ox_xml.decode(ItemKind.EVENT, prop)
        assert isinstance(occurrence, r.Event)
        assert exception_from(series, occurrence, position) == _expected(series, change)
        # and what is read back is written back unchanged
        again = exception_from(series, occurrence, position)
        if again is not None:
            assert _through_ox(exception_event(series, again)) == occurrence


_SERIES = r.Event(
    summary="Standup",
    location="Room 1",
    start=datetime(2026, 3, 30, 7, tzinfo=UTC),  # 09:00 in Paris (summer time)
    end=datetime(2026, 3, 30, 8, tzinfo=UTC),
    timezone="Europe/Paris",
    recurrence=r.Recurrence(frequency=r.Frequency.WEEKLY, weekdays=2, count=10),
)
_ALL_DAY = r.Event(
    summary="Holiday",
    start=date(2026, 3, 2),
    end=date(2026, 3, 3),
    all_day=True,
    recurrence=r.Recurrence(frequency=r.Frequency.DAILY, count=5),
)


@pytest.mark.parametrize(
    ("series", "original", "position"),
    [
        # the day on the series' wall clock: 00:30 in Paris is still the day before in UTC
        (
            r.Event(
                start=datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
                end=datetime(2026, 3, 29, 23, tzinfo=UTC),
                timezone="Europe/Paris",
                recurrence=r.Recurrence(frequency=r.Frequency.DAILY, count=3),
            ),
            datetime(2026, 3, 30, 22, 30, tzinfo=UTC),
            1774915200000,  # 2026-03-31
        ),
        (_SERIES, datetime(2026, 4, 6, 7, tzinfo=UTC), 1775433600000),  # 2026-04-06
        (_ALL_DAY, date(2026, 3, 4), 1772582400000),
    ],
)
def test_positions_are_days_on_the_series_clock(
    series: r.Event, original: date | datetime, position: int
) -> None:
    assert date_position(series, original) == position
    assert original_start(series, position) == original


@pytest.mark.parametrize(
    ("title", "start_shift", "expected"),
    [
        ("Standup", timedelta(0), None),  # same as its occurrence: no exception
        ("Other", timedelta(0), {"summary": "Other"}),
        ("Standup", timedelta(hours=2), {"start": 2, "end": 3}),
    ],
)
def test_exception_from_keeps_only_differences(
    title: str, start_shift: timedelta, expected: dict[str, object] | None
) -> None:
    original = datetime(2026, 4, 6, 7, tzinfo=UTC)
    occurrence = r.Event(
        summary=title,
        location="Room 1",
        start=original + start_shift,
        end=original + start_shift + timedelta(hours=1),
        timezone="Europe/Paris",
    )
    got = exception_from(_SERIES, occurrence, date_position(_SERIES, original))
    if expected is None:
        assert got is None
        return
    assert got is not None and got.original_start == original
    if "start" in expected:
        assert (got.start, got.end) == (
            original + timedelta(hours=2),
            original + timedelta(hours=3),
        )
    else:
        assert got.summary == expected["summary"] and got.start is None


def test_versions_compose_and_stamp_the_newest() -> None:
    prop = new_prop()
    ox_xml.encode(_SERIES, prop, full=False)
    entries = [
        exception_object("7", "200", _with_position(prop, 1)),
        exception_object("8", "150", _with_position(prop, 2)),
    ]
    assert composite_version("100", [e for e in entries if e]) == "100:200"
    assert composite_version("100", []) == "100"
    assert series_stamp("100:200") == "200"
    assert series_stamp("300:200") == "300"
    assert series_stamp("100") == "100"
    assert exception_object("9", "1", prop) is None  # no position: not an exception


def _with_position(prop: object, position: int) -> object:
    from copy import deepcopy

    from oxsync.adapters.ox._codec import add

    copy = deepcopy(prop)
    add(copy, "recurrence_date_position", str(position * 86_400_000))
    return copy
