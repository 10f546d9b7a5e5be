"""Bad iCalendar and vCard input never crashes the readers, hangs or vanishes.

Valid documents (the real-world fixtures, and what the project's own writers make of sample
and generated records) are mutated line by line — lines deleted, duplicated, swapped,
truncated, spliced with control characters, lone surrogates, huge numbers, deep BEGIN/END
nesting, bad time zones, bad base64 and charsets, broken folds — and random bytes are fed
as they are. Every outcome must be a record or a :class:`MappingError` whose field errors
come from the mapping, never a Python exception the reader merely caught (``TypeError: …``
reported at ``$``), and an item that was begun must come back as a record or an error.
The explicit tests below are the crashes these properties found, kept as regressions.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.errors import MappingError
from oxsync.mappings.contentline import unfold
from oxsync.mappings.ical import ical_to_results, record_to_ical
from oxsync.mappings.vcard import contact_to_vcard, vcard_to_results
from oxsync.testing import strategies
from oxsync.testing.samples import samples

FIXTURES = Path(__file__).parent / "fixtures"
VCARDS = [p.read_bytes() for p in sorted(FIXTURES.glob("*.vcf"))] + [
    contact_to_vcard(rec, version)  # type: ignore[arg-type]
    for kind in (ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST)
    for rec in samples(kind, 2)
    for version in ("3.0", "4.0")
]
CALENDARS = [p.read_bytes() for p in sorted(FIXTURES.glob("*.ics"))] + [
    record_to_ical(rec) for kind in (ItemKind.EVENT, ItemKind.TASK) for rec in samples(kind, 2)
]

# What a reader's catch-all writes when a Python error escaped the mapping itself.
_LEAKED = re.compile(
    r"^(?:[A-Z]\w*(?:Error|Exception)|BrokenCalendarProperty|RecursionError)\b(?::|$)"
)
_ITEM_BEGIN = re.compile(r"(?im)^[ \t]*BEGIN[ \t]*(?:;[^:]*)?:[ \t]*(VEVENT|VTODO|VJOURNAL)\b")

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------- mutations

# fmt: off
_SNIPPETS = [
    "\x00", "\ud800", "\udfff", "\x7f", "\x1b", "\x0b", "\u2028", "\u0085", "\ufeff", "\r",
    "\n", "\r\n ", "\r\n\t", " ", ";", ":", ",", "=", '"', "\\", "^", "é", "😀",
    "99999999999999999999", "-1", "0", "2147483648", "99991231T235959Z", "00010101T000000",
    "00010101", "20260230", "T", "Z", "P", "PT", "-P99999999W", "P999999999D",
    "COUNT=", "INTERVAL=", "UNTIL=", "BYDAY=", "BYSETPOS=", "BYMONTH=", "FREQ=SECONDLY",
    "TZID=Foo/Bar", 'TZID="W. Europe Standard Time"', "TZID=" + "A" * 300, "TZID=",
    "VALUE=DATE", "VALUE=PERIOD", "VALUE=DURATION", "RELATED=END", "RANGE=THISANDFUTURE",
    "ENCODING=b", "ENCODING=BASE64", "ENCODING=QUOTED-PRINTABLE", "CHARSET=\x00",
    "CHARSET=rot13", "CHARSET=utf-16", "CHARSET=idna", "CHARSET=",
    "data:image/png;base64,", "!!!", "=ZZ", "=C3", "item1.", "X-", "A" * 3000,
]
_LINES = [
    "BEGIN:VCARD", "END:VCARD", "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VEVENT",
    "END:VEVENT", "BEGIN:VTODO", "END:VTODO", "BEGIN:VALARM", "END:VALARM",
    "BEGIN:VTIMEZONE", "END:VTIMEZONE", "BEGIN:X", "END:X", "TZID:X", "DTSTART:bogus",
    "DTSTART;TZID=Europe/Paris:00010101T000000", "DTSTART;VALUE=DATE:99991231",
    "DURATION:P99999999D", "DURATION:bogus", "RECURRENCE-ID:20260302T100000Z",
    "TRIGGER;RELATED=END:-PT15M", "TRIGGER:-PT5M", "RRULE:FREQ=DAILY;COUNT=99999999999",
    "RRULE:FREQ=WEEKLY;INTERVAL=é", "EXDATE;TZID=Europe/Paris:00010101T000000",
    "COMPLETED:20260301T100000Z", "PHOTO;ENCODING=b;TYPE=JPEG:!!!!", "BDAY:0000-00-00",
    "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=\x00:a=3Db", "KIND:group", "MEMBER:x", "TEL:",
    "VERSION:5.0", ":", "", " ",
]
# fmt: on


@st.composite
def _mutated(draw: st.DrawFn, documents: list[bytes]) -> bytes:
    text = draw(st.sampled_from(documents)).decode("utf-8", "surrogateescape")
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        op = draw(st.integers(0, 8))
        if not lines:
            lines = [""]
        line = lines[i]
        cut = draw(st.integers(0, len(line)))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
        elif op == 2:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = line[:cut] + draw(st.sampled_from(_SNIPPETS)) + line[cut:]
        elif op == 4:
            lines[i] = line[:cut] + draw(st.text(max_size=6)) + line[cut:]
        elif op == 5:
            lines[i] = line[:cut] + line[draw(st.integers(cut, len(line))) :]
        elif op == 6:
            lines = lines[: draw(st.integers(0, len(lines)))]
        elif op == 7:
            lines.insert(i, draw(st.sampled_from(_LINES)) + "\r\n")
        else:
            depth = draw(st.integers(1, 300))
            name = draw(st.sampled_from(["X", "VALARM", "VEVENT", "VCARD", "VCALENDAR"]))
            closed = draw(st.booleans())
            lines.insert(i, f"BEGIN:{name}\r\n" * depth + (f"END:{name}\r\n" * depth) * closed)
    data = "".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and data:  # a few bytes overwritten: bad encodings
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        data = bytes(raw)
    return data


# ---------------------------------------------------------------------------- checks


def _assert_typed(results: list[r.Record | MappingError]) -> None:
    for result in results:
        if isinstance(result, MappingError):
            assert result.errors, result
            for error in result.errors:
                assert not _LEAKED.match(error.message), f"{error.path}: {error.message}"
        else:
            assert isinstance(result, r.Record)


def check_vcard(data: bytes) -> None:
    """``data`` reads into records and typed errors; nothing else escapes."""
    try:
        results = vcard_to_results(data)
    except MappingError as exc:
        assert exc.errors
        return
    assert results
    _assert_typed(results)


def check_ical(data: bytes) -> None:
    """``data`` reads into records and typed errors; a begun item never vanishes."""
    try:
        results = ical_to_results(data)
    except MappingError as exc:
        assert exc.errors
        return
    _assert_typed(results)
    text = data.decode("utf-8", "replace")
    if any(_ITEM_BEGIN.match(line) for line in unfold(text)):
        assert results, "an item was begun but neither a record nor an error came back"


# ---------------------------------------------------------------------------- properties


@FUZZ
@given(_mutated(VCARDS))
def test_mutated_vcards_give_records_or_typed_errors(data: bytes) -> None:
    check_vcard(data)


@FUZZ
@given(_mutated(CALENDARS))
def test_mutated_calendars_give_records_or_typed_errors(data: bytes) -> None:
    check_ical(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "replace")))
def test_random_bytes_give_records_or_typed_errors(data: bytes) -> None:
    check_vcard(b"BEGIN:VCARD\r\n" + data)
    check_ical(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + data)
    check_vcard(data)
    check_ical(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_writes_of_generated_records_give_records_or_typed_errors(
    data: st.DataObject,
) -> None:
    kind = data.draw(st.sampled_from(list(ItemKind)))
    record = data.draw(strategies.records(kind))
    try:
        if kind in (ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST):
            written = contact_to_vcard(record, data.draw(st.sampled_from(["3.0", "4.0"])))
        else:
            written = record_to_ical(record)
    except MappingError:
        return  # a field this format cannot hold: the writer's own tests cover it
    mutated = data.draw(_mutated([written]))
    if kind in (ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST):
        check_vcard(mutated)
    else:
        check_ical(mutated)


# ---------------------------------------------------------------------------- regressions


def _calendar(*lines: str, zone: str = "") -> bytes:
    body = "".join(line + "\r\n" for line in lines)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n" + zone + "BEGIN:VEVENT\r\nUID:u\r\n"
        "DTSTAMP:20260101T000000Z\r\n" + body + "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def _paths(caught: pytest.ExceptionInfo[MappingError]) -> set[str]:
    return {e.path for e in caught.value.errors}


_ZONE_TWICE = (
    "BEGIN:VTIMEZONE\r\nTZID:X\r\nTZID:X\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


@pytest.mark.parametrize(
    "data",
    [
        # icalendar raised AttributeError ('list' object has no attribute 'strip')
        _calendar("DTSTART;TZID=X:20260301T100000", zone=_ZONE_TWICE),
        # icalendar raised OSError (File name too long) looking the zone up
        _calendar("DTSTART;TZID=" + "A" * 5000 + ":20260301T100000"),
    ],
    ids=["vtimezone-with-two-tzids", "tzid-of-5000-characters"],
)
def test_library_failures_are_typed_errors(data: bytes) -> None:
    with pytest.raises(MappingError) as caught:
        ical_to_results(data)
    assert _paths(caught) == {"$"}
    check_ical(data)


@pytest.mark.parametrize(
    "data",
    [
        b"BEGIN:VCALENDAR\r\n" + _calendar("DTSTART:20260301T100000Z"),
        _calendar("DTSTART:20260301T100000Z", "BEGIN:X"),
        b" BEGIN:VCALENDAR\r\n" + _calendar("DTSTART:20260301T100000Z"),
        _calendar("DTSTART:20260301T100000Z").replace(b"\r\n", b"\r"),
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260301T100000Z\r\n",
    ],
    ids=["begin-twice", "unclosed-inner", "folded-first-line", "cr-line-ends", "truncated"],
)
def test_a_component_left_open_is_an_error_not_an_empty_calendar(data: bytes) -> None:
    # icalendar returned no component at all: the event vanished without a word
    with pytest.raises(MappingError) as caught:
        ical_to_results(data)
    assert "without END" in str(caught.value)


_START = "DTSTART:20260301T100000Z"
_OVERRIDE = "RECURRENCE-ID:20260302T100000Z\r\n"
_RID = "exceptions[0].original_start"


def _with_override(*lines: str) -> bytes:
    series = _calendar(_START, "RRULE:FREQ=DAILY")
    body = "".join(line + "\r\n" for line in lines)
    return series.replace(
        b"END:VCALENDAR", f"BEGIN:VEVENT\r\nUID:u\r\n{body}END:VEVENT\r\nEND:VCALENDAR".encode()
    )


def _alarm(*lines: str) -> str:
    return "\r\n".join(("BEGIN:VALARM", "ACTION:DISPLAY", *lines, "END:VALARM"))


_TO_END = _alarm("TRIGGER;RELATED=END:-PT1H")
_PARIS_0001 = "TZID=Europe/Paris:00010101T000000"  # before 0001-01-01 in UTC


@pytest.mark.parametrize(
    ("data", "path"),
    [
        # AttributeError: 'list' object has no attribute 'dt'
        (_calendar(_START, _alarm("TRIGGER:-PT1H", "TRIGGER:-PT2H")), "alarm"),
        (_calendar(_START, _START, "DTEND:20260301T110000Z", _TO_END), "alarm"),
        (_calendar(_START, "DURATION:PT1H", "DURATION:PT2H"), "end"),
        (_with_override(_OVERRIDE + "DURATION:PT1H", "DURATION:PT2H"), "exceptions[0].end"),
        # TypeError: unsupported operand type(s) for -: 'datetime.datetime' and 'datetime.date'
        (_calendar("DTSTART;VALUE=DATE:20260301", "DTEND:20260302T100000Z", _TO_END), "alarm"),
        # BrokenCalendarProperty: Cannot access 'dt' on broken property 'DURATION'
        (_calendar(_START, "DURATION:bogus"), "end"),
        (_with_override(_OVERRIDE + "DURATION:bogus"), "exceptions[0].end"),
        # AttributeError: 'list' object has no attribute 'params'
        (_with_override(_OVERRIDE + "RECURRENCE-ID:20260303T100000Z"), _RID),
        # UnicodeDecodeError: 'ascii' codec can't decode byte 0xc3
        (_calendar(_START, "RRULE:FREQ=HOURLY;INTERVALé=2"), "recurrence"),
        # OverflowError: date value out of range
        (_calendar("DTSTART;VALUE=DATE:99991231"), "end"),
        (_calendar("DTSTART:99991231T230000Z", "DURATION:P2D"), "end"),
        (_calendar(_START, "DURATION:P999999999D"), "end"),
        (_calendar("DTSTART;" + _PARIS_0001), "start"),
        (_calendar(_START, "RRULE:FREQ=DAILY", "EXDATE;" + _PARIS_0001), "recurrence.deleted"),
        (_with_override(_OVERRIDE + "DURATION:P99999999D"), "exceptions[0].end"),
        (_calendar("DUE;" + _PARIS_0001).replace(b"VEVENT", b"VTODO"), "due"),
        (_calendar("DTSTART:99991231T000000Z", "DURATION:P9D").replace(b"VEVENT", b"VTODO"), "due"),
    ],
)
def test_bad_item_values_name_their_field_instead_of_a_python_error(data: bytes, path: str) -> None:
    (result,) = ical_to_results(data)
    assert isinstance(result, MappingError)
    assert path in {e.path for e in result.errors}, result
    check_ical(data)


def test_completed_twice_is_named_not_a_python_error() -> None:
    # AttributeError: 'list' object has no attribute 'params'
    data = _calendar("COMPLETED:20260301T100000Z", "COMPLETED:20260302T100000Z")
    (result,) = ical_to_results(data.replace(b"VEVENT", b"VTODO"))
    assert isinstance(result, MappingError)
    assert {e.path for e in result.errors} == {"date_completed"}


@pytest.mark.parametrize("charset", ["\x00", "utf-8\x00"])
def test_a_charset_naming_no_codec_names_the_property(charset: str) -> None:
    # ValueError: embedded null character, reported at "$"
    data = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:x\r\n"
        f"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET={charset}:a=3Db\r\nEND:VCARD\r\n"
    ).encode()
    (result,) = vcard_to_results(data)
    assert isinstance(result, MappingError)
    assert {e.path for e in result.errors} == {"NOTE"}
    check_vcard(data)
