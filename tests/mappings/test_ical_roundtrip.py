"""Hypothesis round trips canonical -> iCalendar bytes -> canonical (events and tasks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given
from icalendar.parser.string import _escape_string, _unescape_string

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.core.serial import to_data
from oxsync.mappings.ical import ical_to_records, record_to_ical
from oxsync.testing.strategies import records


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _param_text(text: str | None) -> str | None:
    # icalendar reads backslash sequences in parameter values (\\ \, \; \:) as the bare
    # character, although RFC 5545 gives parameters no escapes; the fast reader hands
    # such lines to the library, so both agree on the library's reading.
    if text is None:
        return None
    return _unescape_string(_escape_string(text)) or None


def _attendee(att: r.Attendee) -> r.Attendee:
    return attrs.evolve(att, name=_param_text(att.name), comment=_param_text(att.comment))


def project_ical(record: Any) -> Any:
    """What iCalendar keeps of a record (rules restated from the module docs).

    - timed values come back as UTC instants (the zone lives in ``timezone``);
    - an override value equal to what the series gives reads back as ``None``;
    - EXDATEs come back sorted without duplicates (as the strategy makes them);
    - parameter texts (names, comments) as icalendar reads backslashes in them.
    """
    people: dict[str, Any] = {}
    if getattr(record, "attendees", None):
        people["attendees"] = tuple(_attendee(a) for a in record.attendees)
    if getattr(record, "organizer", None) is not None:
        people["organizer"] = _attendee(record.organizer)
    record = attrs.evolve(record, **people)
    if isinstance(record, r.Task):
        return record
    series_span = record.end - record.start
    exceptions = []
    for exc in record.exceptions:
        start = exc.start if exc.start is not None else exc.original_start
        natural_end = start + series_span
        exceptions.append(
            attrs.evolve(
                exc,
                original_start=_utc(exc.original_start),
                start=None if exc.start == exc.original_start else _utc(exc.start),
                end=None if exc.end is None or exc.end == natural_end else _utc(exc.end),
                summary=None if exc.summary == record.summary else exc.summary,
                location=None if exc.location == record.location else exc.location,
                note=None if exc.note == record.note else exc.note,
                busy_status=None if exc.busy_status is record.busy_status else exc.busy_status,
            )
        )
    return attrs.evolve(
        record,
        start=_utc(record.start),
        end=_utc(record.end),
        exceptions=tuple(exceptions),
    )


@pytest.mark.parametrize("kind", [ItemKind.EVENT, ItemKind.TASK], ids=lambda k: k.value)
def test_ical_round_trip_keeps_every_field(kind: ItemKind) -> None:
    @given(records(kind))
    def check(record: Any) -> None:
        (back,) = ical_to_records(record_to_ical(record))
        assert to_data(back) == to_data(project_ical(record))

    check()
