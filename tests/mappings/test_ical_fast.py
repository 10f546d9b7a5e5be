"""Differential tests: the iCalendar fast path agrees with the ``icalendar``-based path.

The fast path (``oxsync.mappings.ical_fast`` over ``oxsync.mappings.contentline``) may
*decline* any input — the library path then decides — but whatever it returns must be
exactly what the library path returns. Proved here for generated records (both writers,
read back through both readers), for generated documents mutated the ways other producers
write (re-folded anywhere, LF line ends, lower-case names, quoted parameters, escapes),
and for every fixture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import icalendar
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from oxsync.core.records import ItemKind
from oxsync.core.serial import to_data
from oxsync.mappings import contentline, ical, ical_fast
from oxsync.testing.samples import sample
from oxsync.testing.strategies import records
from tests.mappings.test_ical_roundtrip import project_ical

FIXTURES = Path(__file__).parent / "fixtures"
ITEM_KINDS = [ItemKind.EVENT, ItemKind.TASK]


def _prepared(data: bytes) -> str:
    return ical._VTIMEZONE.sub(ical._drop_known_zone, data.decode("utf-8"))


def _library_read(data: bytes) -> list[Any]:
    return ical._library_results(_prepared(data))


def _library_write(record: Any) -> bytes:
    if isinstance(record, ical.r.Event):
        return ical._library_event_to_ical(record)
    return ical._library_task_to_ical(record)


def _fast_write(record: Any) -> bytes:
    if isinstance(record, ical.r.Event):
        return ical_fast.write_event(record)
    return ical_fast.write_task(record)


def _has_backslash(record: Any) -> bool:
    return "\\" in repr(record)


def _data(results: list[Any]) -> list[Any]:
    return [to_data(x) if not isinstance(x, Exception) else repr(x.errors) for x in results]


def _assert_fast_read_agrees(text: str) -> bool:
    """The fast reader gives what the library path gives, or declines. True if it read."""
    try:
        library = ical._library_results(text)
    except ical.MappingError:  # the whole document is unreadable: the fast path declines
        with pytest.raises(contentline.Unsupported):
            ical_fast.read(text)
        return False
    try:
        fast = ical_fast.read(text)
    except contentline.Unsupported:
        return False
    assert _data(fast) == _data(library)
    return True


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("kind", ITEM_KINDS, ids=lambda k: k.value)
def test_fast_writer_output_reads_back_as_the_library_writer_output(kind: ItemKind) -> None:
    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(records(kind))
    def check(record: Any) -> None:
        try:
            reference = _library_write(record)
        except ical.MappingError:  # an invalid record: the fast writer must decline too
            with pytest.raises(contentline.Unsupported):
                _fast_write(record)
            return
        try:
            fast = _fast_write(record)
        except contentline.Unsupported:
            return  # the public functions use the library writer for this record
        back = _library_read(fast)
        assert _data(back) == [to_data(project_ical(record))]  # exact, through the library
        if not _has_backslash(record):  # icalendar's writer turns a literal "\\N" into "\n"
            assert _data(back) == _data(_library_read(reference))
        # and every physical line is folded to at most 75 octets (RFC 5545 §3.1)
        assert max(len(line) for line in fast.split(b"\r\n")) <= 75

    check()


@pytest.mark.parametrize("kind", ITEM_KINDS, ids=lambda k: k.value)
def test_sample_records_take_the_fast_path_both_ways(kind: ItemKind) -> None:
    for i in range(50):
        record = sample(kind, i)
        data = _fast_write(record)  # does not decline
        assert ical_fast.read(_prepared(data)) == [record]
        assert _library_read(data) == [record]


def test_backslashes_round_trip_exactly_on_the_fast_path() -> None:
    # icalendar's writer turns a literal "\\N" into a newline; the fast writer does not
    event = attrs.evolve(sample(ItemKind.EVENT, 1), summary=r"C:\temp\Notes", note="a\\nb")
    data = ical.event_to_ical(event)
    assert b"SUMMARY:C:\\\\temp\\\\Notes" in data
    assert ical_fast.read(_prepared(data)) == [event]
    assert _library_read(data) == [event]


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("kind", ITEM_KINDS, ids=lambda k: k.value)
def test_fast_reader_reads_generated_documents_as_the_library_does(kind: ItemKind) -> None:
    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(records(kind))
    def check(record: Any) -> None:
        try:
            documents = (_library_write(record), ical.record_to_ical(record))
        except ical.MappingError:
            return  # an invalid record (see the writer test)
        for data in documents:
            _assert_fast_read_agrees(_prepared(data))

    check()


_OTHER_PRODUCERS = [  # properties other producers write; each is read or declined
    "PRIORITY:3",
    "PRIORITY:0",
    "SEQUENCE:2",
    "COLOR:blue",
    "COLOR:papayawhip",
    "STATUS:CONFIRMED",
    "CLASS:CONFIDENTIAL",
    "TRANSP:TRANSPARENT",
    "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
    "X-MICROSOFT-CDO-BUSYSTATUS:bogus",
    "ATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:room@example.org",
    'ATTENDEE;CN="Doe, Jane";ROLE=OPT-PARTICIPANT:MAILTO:jane@example.org',
    "ORGANIZER;CN=Boss:mailto:boss@example.org",
    "X-ALT-DESC;FMTTYPE=text/plain:plain",
    "CATEGORIES:a,b",
    "CATEGORIES:c\\,d",
    "RDATE:20260101T000000Z",
    "ATTACH:https://example.org/a.pdf",
    "ATTACH;FILENAME=notes.pdf;FMTTYPE=application/pdf:https://example.org/",
    "ATTACH;VALUE=URI;X-APPLE-FILENAME=b.txt:https://example.org/b",
    "ATTACH;ENCODING=BASE64;VALUE=BINARY:aGVsbG8=",
    'ATTACH;FILENAME="a;b.txt":ftp://example.org/a\\,b',
    "CREATED:20260101T000000Z",
    "LAST-MODIFIED;VALUE=DATE:20260101",
    "X-OXSYNC-COLOR-LABEL:4",
    "BEGIN:VALARM\r\nACTION:NONE\r\nTRIGGER;VALUE=DATE-TIME:19760401T005545Z\r\nEND:VALARM",
    "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;RELATED=END:-PT5M\r\nEND:VALARM",
    "BEGIN:VALARM\r\nTRIGGER;VALUE=DATE-TIME:20260101T090000Z\r\nEND:VALARM",
    "BEGIN:VALARM\r\nTRIGGER:-P1D\r\nEND:VALARM",
    "BEGIN:X-THING\r\nX-A:1\r\nEND:X-THING",
    "COMPLETED;X-OXSYNC-VALUE=DATE:20260101T000000Z",
    "PERCENT-COMPLETE:50",
    "X-OXSYNC-TOTAL-WORK:12",
    'DESCRIPTION;ALTREP="cid:x":text',
]


@st.composite
def _mutated(draw: Any, kind: ItemKind) -> str:
    """A generated document rewritten the ways other producers write iCalendar."""
    record = draw(records(kind))
    try:
        data = ical.record_to_ical(record)
    except ical.MappingError:
        reject()  # the strategy made an invalid record (see the writer test)
    lines = contentline.unfold(_prepared(data))
    out = []
    for line in lines:
        name, sep, rest = line.partition(":")
        choice = draw(st.integers(0, 9))
        if choice == 0:  # property names are case-insensitive
            line = name.lower() + sep + rest
        elif choice == 1 and ";" in name and '"' not in name:  # quote a parameter value
            head, _, param = name.rpartition(";")
            key, eq, value = param.partition("=")
            line = f'{head};{key}="{value}"{sep}{rest}' if eq else line
        elif choice == 2:  # an escape producers write needlessly or oddly
            line += draw(st.sampled_from(["\\:", "\\N", "\\\\", "\\x", "\\", ",", ";", '"']))
        elif choice == 3:  # an unknown parameter
            line = name + ';X-FOO="a:b;c"' + sep + rest
        elif choice == 4 and name.upper().startswith("DTEND"):  # DURATION instead of DTEND
            line = "DURATION:" + draw(st.sampled_from(["PT1H", "P1D", "P1DT2H", "PT0S", "P1W"]))
        elif choice == 5 and name.upper() in ("DTSTART", "DTEND", "DUE"):
            line = name + ";VALUE=DATE-TIME" + sep + rest
        if line.upper() in ("END:VEVENT", "END:VTODO"):
            out.extend(draw(st.lists(st.sampled_from(_OTHER_PRODUCERS), max_size=3)))
        out.append(line)
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    folded = []
    for line in out:  # re-fold at arbitrary places, with a space or a tab
        cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(line) - 1)), max_size=3))))
        pieces = [line[a:b] for a, b in zip([0, *cuts], [*cuts, len(line)], strict=True)]
        blank = draw(st.sampled_from([" ", "\t"]))
        folded.append((newline + blank).join(p for p in pieces if p) + newline)
    return "".join(folded)


@pytest.mark.parametrize("kind", ITEM_KINDS, ids=lambda k: k.value)
def test_fast_reader_agrees_or_declines_on_mutated_documents(kind: ItemKind) -> None:
    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(_mutated(kind))
    def check(text: str) -> None:
        _assert_fast_read_agrees(text)

    check()


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.ics")), ids=lambda p: p.name)
def test_fast_reader_agrees_or_declines_on_every_fixture(path: Path) -> None:
    _assert_fast_read_agrees(_prepared(path.read_bytes()))


def test_fast_reader_takes_real_world_files_it_can() -> None:
    taken = [
        path.name
        for path in sorted(FIXTURES.glob("*.ics"))
        if _assert_fast_read_agrees(_prepared(path.read_bytes()))
    ]
    assert {"apple_calendar.ics", "google_calendar.ics", "ox_export.ics"} <= set(taken)


# --------------------------------------------------------------------------- content lines


_LINE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(';:,"\\^='),
    max_size=200,
)


@given(st.from_regex(r"[A-Z][A-Z0-9-]{0,10}", fullmatch=True), _LINE_TEXT)
def test_fold_then_unfold_gives_the_line_back_within_75_octets(name: str, value: str) -> None:
    line = f"{name}:{value}"
    folded = contentline.fold(line)
    assert contentline.unfold(folded) == [line]
    assert all(len(p.encode()) <= 75 for p in folded.split("\r\n"))


@given(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}", fullmatch=True),
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,8}", fullmatch=True),
            st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
            st.booleans(),
        ),
        max_size=3,
        unique_by=lambda p: p[0].upper(),
    ),
    _LINE_TEXT,
)
def test_parse_line_agrees_with_icalendar_or_declines(
    name: str, params: list[tuple[str, str, bool]], value: str
) -> None:
    head = name + "".join(f';{k}="{v}"' if q else f";{k}={v}" for k, v, q in params)
    text = f"{head}:{value}"
    try:
        ours = contentline.parse_line(text)
        our_params = {k: ours.param(k) for k in ours.params}
        our_value = contentline.unescape_text(ours.value)
    except contentline.Unsupported:
        return
    lib_name, lib_params, lib_value = icalendar.parser.Contentline(text).parts()
    assert ours.name == lib_name.upper()
    assert our_params == {k.upper(): v for k, v in lib_params.items()}
    assert our_value == lib_value


@pytest.mark.parametrize("module", [contentline, ical], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: Any) -> None:
    import doctest

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    "tzid",
    ["Europe/Paris", "UTC", "Etc/UTC", "GMT", "Etc/GMT+5", "US/Eastern", "Asia/Calcutta"],
)
def test_fast_reader_names_zones_as_the_library_path_does(tzid: str) -> None:
    text = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        f"DTSTART;TZID={tzid}:20260302T103000\r\nDTEND;TZID={tzid}:20260302T113000\r\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20260401T000000Z\r\n"
        f"EXDATE;TZID={tzid}:20260309T103000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert _assert_fast_read_agrees(text)


@pytest.mark.parametrize("item", ["VEVENT", "VTODO"])
def test_fast_reader_adds_durations_across_dst_as_the_library_path_does(item: str) -> None:
    text = (
        f"BEGIN:VCALENDAR\r\nBEGIN:{item}\r\nUID:1\r\n"
        "DTSTART;TZID=Europe/Paris:20260328T103000\r\nDURATION:P1DT2H\r\n"
        f"END:{item}\r\nEND:VCALENDAR\r\n"
    )
    assert _assert_fast_read_agrees(text)
