"""Bad input in either direction gives a MappingError naming every bad field."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest

from oxsync.core import records as r
from oxsync.errors import MappingError
from oxsync.mappings.ical import event_to_ical, ical_to_records, record_to_ical, task_to_ical
from oxsync.mappings.values import MAX_NOTE_CHARS

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVENT = r.Event(uid="e1", summary="x", start=START, end=START, timezone="Europe/Paris")


def _vevent(*lines: str) -> bytes:
    body = "\r\n".join(("UID:bad", "DTSTAMP:20260101T000000Z", *lines))
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\n"
        f"{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def _paths(exc: pytest.ExceptionInfo[MappingError]) -> set[str]:
    return {e.path for e in exc.value.errors}


def test_writing_reports_every_bad_field_at_once() -> None:
    bad = attrs.evolve(
        EVENT,
        start=datetime(2026, 3, 2, 9, 0),  # naive
        timezone="Mars/Olympus_Mons",
        color_label=11,
        summary="tab\tok but bell \x07 is not",
        recurrence=r.Recurrence(frequency=r.Frequency.DAILY, interval=0),
    )
    with pytest.raises(MappingError) as caught:
        event_to_ical(bad)
    assert {"start", "timezone", "color_label", "summary", "recurrence.interval"} <= _paths(caught)


def test_all_day_event_with_datetimes_and_reversed_span_are_refused() -> None:
    with pytest.raises(MappingError) as caught:
        event_to_ical(attrs.evolve(EVENT, all_day=True))
    assert _paths(caught) == {"start"}
    with pytest.raises(MappingError) as caught:
        event_to_ical(attrs.evolve(EVENT, end=datetime(2026, 3, 1, tzinfo=UTC)))
    assert _paths(caught) == {"end"}


def test_task_out_of_range_values_are_refused() -> None:
    task = r.Task(uid="t", percent_complete=150, color_label=-1)
    with pytest.raises(MappingError) as caught:
        task_to_ical(task)
    assert _paths(caught) == {"percent_complete", "color_label"}


def test_a_contact_has_no_icalendar_form() -> None:
    with pytest.raises(MappingError):
        record_to_ical(r.Contact(last_name="x"))


def test_ten_megabyte_note_is_refused_both_ways() -> None:
    huge = "n" * (10 * 1024 * 1024)
    assert len(huge) > MAX_NOTE_CHARS
    with pytest.raises(MappingError) as caught:
        event_to_ical(attrs.evolve(EVENT, note=huge))
    assert _paths(caught) == {"note"}
    data = _vevent("DTSTART:20260302T090000Z", "DESCRIPTION:" + huge)
    with pytest.raises(MappingError) as caught:
        ical_to_records(data)
    assert _paths(caught) == {"note"}


def test_invalid_utf8_is_a_typed_error() -> None:
    data = _vevent("DTSTART:20260302T090000Z", "SUMMARY:caf\xe9").replace(b"\xc3\xa9", b"\xe9")
    with pytest.raises(MappingError) as caught:
        ical_to_records(data)
    assert "UTF-8" in str(caught.value)


@pytest.mark.parametrize(
    ("lines", "path"),
    [
        (("DTSTART:20261301T090000Z",), "start"),  # month 13
        (("DTSTART:20260302T090000Z", "DTEND;VALUE=DATE:20260303"), "end"),
        (("DTSTART:20260302T090000Z", "X-MICROSOFT-CDO-BUSYSTATUS:SLEEPING"), "busy_status"),
        (("DTSTART:20260302T090000Z", "PRIORITY:12"), "importance"),
        (("DTSTART:20260302T090000Z", "X-OXSYNC-COLOR-LABEL:42"), "color_label"),
        (("DTSTART:20260302T090000Z", "X-OXSYNC-COLOR-LABEL:\u00b2"), "color_label"),
        (("DTSTART:20260302T090000Z", "SEQUENCE:many"), "sequence"),
        (("DTSTART:20260302T090000Z", "RRULE:FREQ=WEEKLY;BYWEEKNO=3"), "recurrence"),
        (("DTSTART:20260302T090000Z", "RRULE:FREQ=DAILY", "RDATE:20260310T090000Z"), "recurrence"),
        (("DTSTART:20260302T090000Z", "SUMMARY:a", "SUMMARY:b"), "summary"),
        (("SUMMARY:no start",), "start"),
    ],
)
def test_bad_event_values_name_the_field(lines: tuple[str, ...], path: str) -> None:
    with pytest.raises(MappingError) as caught:
        ical_to_records(_vevent(*lines))
    assert path in _paths(caught)


def test_garbage_is_not_icalendar() -> None:
    with pytest.raises(MappingError):
        ical_to_records(b"this is not a calendar")


def test_dates_stay_dates_without_a_timezone_shift() -> None:
    event = r.Event(
        uid="d",
        start=date(2026, 3, 29),
        end=date(2026, 3, 30),
        all_day=True,
        timezone="Pacific/Fiji",
    )
    data = event_to_ical(event)
    assert b"DTSTART;VALUE=DATE:20260329" in data and b"DTEND;VALUE=DATE:20260330" in data
    assert ical_to_records(data) == [event]


def test_docstring_examples_run() -> None:
    import doctest

    from oxsync.mappings import ical

    result = doctest.testmod(ical)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("payload", [b"!!!!", b"aGVsbG8", b"a\x00GVs"])
def test_an_inline_attachment_that_is_not_base64_is_an_error_not_an_empty_file(
    payload: bytes,
) -> None:
    # the lenient decode dropped every character outside the alphabet: "!!!!" became an
    # empty attachment, synced as such, and a damaged file looked like a blank one
    from oxsync.mappings.ical import ical_to_results

    head = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        b"DTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\n"
        b"ATTACH;ENCODING=BASE64;VALUE=BINARY;FILENAME=a.txt:"
    )
    tail = b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    (result,) = ical_to_results(head + payload + tail)
    assert isinstance(result, MappingError)
    assert [e.path for e in result.errors] == ["attachments[0]"]
    (folded,) = ical_to_results(head + b"aGVs\r\n bG8=" + tail)  # a folded value is fine
    assert isinstance(folded, r.Event) and folded.attachments[0].data == b"hello"
