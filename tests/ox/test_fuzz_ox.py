"""Bad OX server responses: typed errors or per-item failures, never a crash.

Every explicit test below is the smallest input that once crashed (a bare ValueError,
OSError, OverflowError, RecursionError… escaping). The property tests start from valid
server output and mutate it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from oxsync.adapters.ox import OXStore
from oxsync.adapters.ox._client import OXClient
from oxsync.adapters.ox._codec import ConflictItem, parse_document, parse_multistatus
from oxsync.adapters.ox._folders import sort_parents_first
from oxsync.adapters.ox._freebusy import parse_vfreebusy
from oxsync.adapters.ox._push import PushListener
from oxsync.adapters.ox._results import describe, failure_of
from oxsync.adapters.ox._series import SeriesIndex
from oxsync.adapters.ox._series_items import _listed_by
from oxsync.core.records import (
    Attachment,
    Contact,
    DistributionList,
    DistributionListMember,
    Event,
    EventException,
    Folder,
    FolderKind,
    Frequency,
    ItemKind,
    Recurrence,
    Task,
    Weekday,
)
from oxsync.core.store import Applied, Create, Failure, FailureKind, Item
from oxsync.errors import HostileInputError, MappingError, OxsyncError, ProtocolError
from oxsync.mappings import ox_xml
from oxsync.mappings.values import date_to_ox
from oxsync.testing.oxserver import OXApp, OXBackend
from oxsync.testing.oxserver._rules import RECURRENCE
from oxsync.testing.samples import samples
from oxsync.testing.strategies import records
from tests.ox.conftest import CANARY

NS = ox_xml.OX_NS
DAV = "DAV:"


def _prop(xml: str) -> etree._Element:
    return etree.fromstring(f'<D:prop xmlns:D="DAV:" xmlns:ox="{NS}">{xml}</D:prop>')


_TIMED = "<ox:start_date>0</ox:start_date><ox:end_date>3600000</ox:end_date>"


# --------------------------------------------------------------------------- regressions


@pytest.mark.parametrize("zone", ["America", "9" * 300])
def test_a_time_zone_naming_a_directory_or_too_long_is_a_field_error(zone: str) -> None:
    # ZoneInfo raised IsADirectoryError / OSError (file name too long)
    with pytest.raises(MappingError) as caught:
        ox_xml.decode(ItemKind.EVENT, _prop(f"{_TIMED}<ox:timezone>{zone}</ox:timezone>"))
    assert "timezone" in [e.path for e in caught.value.errors]


_HUGE = "9" * 5000  # more digits than int() reads (sys.get_int_max_str_digits: 4300)


def _multistatus(inner: str) -> bytes:
    return (
        f'<D:multistatus xmlns:D="DAV:" xmlns:ox="{NS}"><D:response>{inner}</D:response>'
        "</D:multistatus>"
    ).encode()


def test_a_status_of_thousands_of_digits_is_a_protocol_error() -> None:
    # ascii_int -> int() raised "Exceeds the limit (4300 digits)" ValueError
    body = _multistatus(f"<D:propstat><D:prop/><D:status>{_HUGE}</D:status></D:propstat>")
    with pytest.raises(ProtocolError):
        parse_multistatus(parse_document(body))


def test_an_error_code_of_thousands_of_digits_is_no_code() -> None:
    body = _multistatus(
        "<D:propstat><D:prop/><D:status>409</D:status>"
        f"<D:responsedescription>[{_HUGE}] x</D:responsedescription></D:propstat>"
    )
    (resp,) = parse_multistatus(parse_document(body))
    assert resp.code is None and failure_of(resp).kind is FailureKind.INVALID


def test_numbers_of_thousands_of_digits_are_no_ids(store: OXStore) -> None:
    contacts = next(f.id for f in store.folders() if f.kind is FolderKind.CONTACTS)
    assert store.fetch(contacts, [_HUGE])[_HUGE] == Failure(
        FailureKind.NOT_FOUND, f"no OX object {_HUGE!r}"
    )
    series = _prop(f"<ox:changeexceptions>{_HUGE},0</ox:changeexceptions>")
    assert _listed_by(SeriesIndex(), "1", series) == []


def test_a_content_length_of_thousands_of_digits_is_hostile() -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"Content-Length": _HUGE}, content=b"<a/>")
    )
    client = OXClient("http://ox.test", "u", "p", transport=transport)
    with pytest.raises(HostileInputError):
        client.request("GET", "version", auth=False)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_dtd_in_a_wide_encoding_is_hostile(encoding: str) -> None:
    # the byte search for <!DOCTYPE missed it: the document was parsed, entities and all
    body = '<!DOCTYPE a [<!ENTITY e "xx">]><D:multistatus xmlns:D="DAV:">&e;</D:multistatus>'
    with pytest.raises(HostileInputError):
        parse_document(body.encode(encoding))


@pytest.mark.parametrize("ms", [2**63 - 1, -(10**20), 253402300800000])
def test_a_clash_at_a_time_outside_the_calendar_is_described_by_its_number(ms: int) -> None:
    # datetime.fromtimestamp raised OverflowError / OSError / ValueError out of apply()
    text = describe(ConflictItem("Lunch", ms, ms, False))
    assert text.startswith("'Lunch'") and str(ms) in text


@pytest.mark.parametrize(
    "period", ["99991231T230000Z/P1D", "20260101T000000Z/P99999999999W", "20260101T000000Z/P1D2"]
)
def test_a_busy_period_past_the_calendar_is_a_protocol_error(period: str) -> None:
    # timedelta() / datetime + timedelta raised OverflowError
    with pytest.raises(ProtocolError):
        parse_vfreebusy(f"BEGIN:VFREEBUSY\r\nFREEBUSY:{period}\r\nEND:VFREEBUSY")


def test_a_chain_of_thousands_of_nested_folders_is_sorted_parents_first() -> None:
    # the recursive walk up the parents raised RecursionError
    # (ids of one length, each child's smaller than its parent's: visited child first)
    chain = [
        Folder(id=str(i), name=f"f{i}", kind=FolderKind.CONTACTS, parent_id=str(i + 1))
        for i in range(1000, 4000)
    ]
    ordered = sort_parents_first(chain)
    assert [f.id for f in ordered] == [f.id for f in chain[::-1]]


def test_a_cycle_of_folders_lists_each_folder_once() -> None:
    a = Folder(id="10", name="a", kind=FolderKind.TASKS, parent_id="11")
    b = Folder(id="11", name="b", kind=FolderKind.TASKS, parent_id="10")
    assert sorted(f.id for f in sort_parents_first([a, b])) == ["10", "11"]


class _Rewriting(httpx.BaseTransport):
    """The in-process test server, each answer body passed through ``rewrite``."""

    def __init__(self, app: OXApp, rewrite: Callable[[bytes], bytes]) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.rewrite = rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
        return httpx.Response(
            answer.status_code, headers=headers, content=self.rewrite(answer.read())
        )


_MONDAY = datetime(2026, 4, 6, 9, tzinfo=UTC)


def _series_with_exception(app: OXApp, start: datetime = _MONDAY) -> tuple[str, int]:
    """A weekly series (and the exception of its second occurrence) in alice's calendar:
    the calendar's id and the exception's ``recurrence_date_position``."""
    store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    calendar = next(f.id for f in store.folders() if f.kind is FolderKind.CALENDAR)
    second = start + timedelta(days=7)
    series = Event(
        uid="series",
        summary="Standup",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Berlin",
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=Weekday.MONDAY, count=10),
        exceptions=(EventException(original_start=second, summary="Moved"),),
    )
    (done,) = store.apply(calendar, [Create(series)])
    assert isinstance(done, Applied) and ":" in done.version, done
    store.close()
    return calendar, date_to_ox(second.date())


def _read_all(store: OXStore, folder_id: str) -> dict[str, Item | Failure]:
    changes = store.changes(folder_id, None)
    return dict(store.fetch(folder_id, [ref.id for ref in changes.changed]))


@pytest.mark.parametrize("position", ["9999999999999999999", "253402214400000", "-62135683200000"])
def test_an_exception_on_a_day_outside_the_calendar_fails_its_series(
    app: OXApp, position: str
) -> None:
    # date_from_ox raised ValueError, the occurrence's start OverflowError, out of fetch()
    calendar, day = _series_with_exception(app)
    store = OXStore(
        "http://ox.test",
        "alice",
        CANARY,
        transport=_Rewriting(app, lambda body: body.replace(str(day).encode(), position.encode())),
    )
    (got,) = _read_all(store, calendar).values()
    assert isinstance(got, Failure) and got.kind is FailureKind.INVALID, got
    assert "exception" in got.message


def test_the_exceptions_of_a_series_before_1970_are_kept(app: OXApp) -> None:
    # changeexceptions days were read as ASCII digits only: a negative day (before 1970)
    # matched no exception object, and the series silently lost its exceptions
    calendar, _ = _series_with_exception(app, datetime(1965, 4, 5, 9, tzinfo=UTC))
    store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    (got,) = _read_all(store, calendar).values()
    assert isinstance(got, Item) and isinstance(got.record, Event), got
    assert [e.summary for e in got.record.exceptions] == ["Moved"]


def _exception_stamps(stamp: str) -> Callable[[bytes], bytes]:
    """A rewrite giving every change exception object in an answer ``last_modified`` stamp."""

    def rewrite(body: bytes) -> bytes:
        if b"recurrence_date_position" not in body:
            return body
        root = etree.fromstring(body)
        for prop in root.iter(f"{{{DAV}}}prop"):
            if prop.find(f"{{{NS}}}recurrence_date_position") is not None:
                prop.find(f"{{{NS}}}last_modified").text = stamp
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return rewrite


def test_an_exception_object_with_an_unreadable_last_modified_is_a_protocol_error(
    backend: OXBackend, app: OXApp
) -> None:
    # A delta after the exception's last change lists only the series; the store then
    # lists the folder for the series' exception objects, where versions.compose raised
    # a bare ValueError on int('yesterday').
    calendar, _ = _series_with_exception(app)
    (exception,) = [o for o in backend.objects.values() if o.series is not None]
    store = OXStore(
        "http://ox.test", "alice", CANARY, transport=_Rewriting(app, _exception_stamps("yesterday"))
    )
    store.folders()
    with pytest.raises(ProtocolError):
        store.changes(calendar, str(exception.last_modified))


# --------------------------------------------------------------------------- properties

_WEIRD = [
    "",
    " ",
    "-1",
    "0",
    "-0",
    "+5",
    "1.5",
    "1e5",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "١٢٣",
    "²",
    "12 ",
    "true",
    "TRUE",
    "abc",
    "13",
    "12",
    "32",
    "128",
    "-128",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999",
    _HUGE,
    "253402300800000",
    "253402214400000",
    "-62135596800000",
    "-62135596800001",
    "none",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "hourly",
    "accept",
    "decline",
    "tentative",
    "maybe",
    "America",
    "Europe/Berlin",
    "1,2",
    ",",
    "a,b",
    "CREATE",
    "DELETE",
    "LIST",
    "200",
    "404",
    "HTTP/1.1 500 x",
    "[1006] clash",
    "0,0,true",
    "1,99999999999999999999,false",
]
_XML_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co")), max_size=12
)
_TEXTS = st.one_of(
    st.sampled_from(_WEIRD),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True).map(str),
    _XML_TEXT,
)
_NAMES = [
    "user",
    "group",
    "resource",
    "email",
    "participants",
    "distributionlist",
    *RECURRENCE,  # the test server's list of the recurrence elements
    "recurrence_id",
    "recurrence_date_position",
    "start_date",
    "end_date",
    "full_time",
    "timezone",
    "alarm",
    "alarm_flag",
    "image1",
    "object_status",
    "object_id",
    "last_modified",
    "permissions",
    "attachments",
    "attachment",
    "object_list",
    "id",
    "conflictitems",
    "conflictitem",
]
_ATTRS = [
    "confirm",
    "external",
    "mail",
    "displayname",
    "emailfield",
    "id",
    "folder_id",
    "folderpermission",
    "objectreadpermission",
    "admin_flag",
    "mimetype",
    "last_modified",
    "subject",
]


def _mutate(data: st.DataObject, root: etree._Element) -> None:
    """1-4 random edits of a tree: texts, attributes, drops, duplicates, wrong nesting."""
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        nodes = list(root.iter())
        el = data.draw(st.sampled_from(nodes), label="element")
        parent = el.getparent()
        how = data.draw(st.sampled_from(["text", "text", "attr", "drop", "dup", "nest", "move"]))
        if how == "text":
            el.text = data.draw(_TEXTS, label="text")
        elif how == "attr":
            name = data.draw(st.sampled_from(_ATTRS))
            el.set(f"{{{NS}}}{name}", data.draw(_TEXTS, label="value"))
        elif how == "drop" and parent is not None:
            parent.remove(el)
        elif how == "dup" and parent is not None:
            parent.append(copy.deepcopy(el))
        elif how == "nest":  # an element (or a list) where the other is expected
            child = etree.SubElement(el, f"{{{NS}}}{data.draw(st.sampled_from(_NAMES))}")
            child.text = data.draw(_TEXTS, label="child text")
        elif how == "move" and parent is not None and len(el):
            el.text, el[:] = data.draw(_TEXTS, label="flattened"), []


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from(list(ItemKind)))
def test_a_mutated_record_decodes_or_is_a_mapping_error(
    data: st.DataObject, kind: ItemKind
) -> None:
    prop = ox_xml.new_prop()
    ox_xml.encode(data.draw(records(kind), label="record"), prop)
    _mutate(data, prop)
    for folder_kind in FolderKind:
        with contextlib.suppress(MappingError):
            ox_xml.decode(ox_xml.kind_of(prop, folder_kind), prop, contact_uid=lambda i, f: i)


def _damaged(data: st.DataObject, body: bytes) -> bytes:
    """``body`` cut short, with junk bytes, a DTD, re-encoded, or replaced by noise."""
    how = data.draw(st.sampled_from(["cut", "junk", "dtd", "wide", "bytes"]))
    if how == "cut":
        return body[: data.draw(st.integers(0, len(body)))]
    if how == "junk":
        at = data.draw(st.integers(0, len(body)))
        return body[:at] + data.draw(st.binary(min_size=1, max_size=8)) + body[at:]
    if how == "dtd":
        return b'<!DOCTYPE m [<!ENTITY e "&#60;x/>">]>' + body.split(b"?>", 1)[-1]
    if how == "wide":
        return body.decode().replace("UTF-8", "UTF-16").encode("utf-16")
    return data.draw(st.binary(max_size=64))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_damaged_document_is_a_protocol_error(data: st.DataObject) -> None:
    body = _damaged(data, data.draw(st.sampled_from(_answers()), label="answer"))
    with contextlib.suppress(ProtocolError):  # HostileInputError is one
        parse_multistatus(parse_document(body))


# The test server, filled once: every kind of object, a series with an exception, a list
# pointing at a contact, a file. Reads never change it, so examples may share it.
@functools.cache
def _filled() -> tuple[OXApp, list[bytes]]:
    backend = OXBackend()
    backend.add_user("alice", CANARY, display_name="Alice Adams")
    backend.add_user("bob", "bob-pw", display_name="Bob Brown")
    backend.add_group("team", ["alice", "bob"])
    backend.add_resource("Room 1", "room1@example.org")
    app = OXApp(backend)
    _series_with_exception(app)
    transport = _Rewriting(app, _keep)
    store = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    folders = {f.kind: f.id for f in store.folders() if f.is_default}
    task = Task(uid="t", summary="Every 3rd", start=date(2026, 1, 1), due=date(2026, 1, 2))
    task = attrs.evolve(task, recurrence=Recurrence(frequency=Frequency.MONTHLY, day_of_month=3))
    writes = {
        FolderKind.CONTACTS: [
            *samples(ItemKind.CONTACT, 2),
            DistributionList(
                uid="dl",
                display_name="List",
                members=(
                    DistributionListMember(
                        display_name="Ada",
                        email="ada0@example.org",
                        contact_uid=samples(ItemKind.CONTACT, 1)[0].uid,
                        email_slot=1,
                    ),
                ),
            ),
            Contact(
                uid="filed",
                last_name="F",
                attachments=(Attachment(filename="a.txt", content_type="text/plain", data=b"hi"),),
            ),
        ],
        FolderKind.CALENDAR: samples(ItemKind.EVENT, 2),
        FolderKind.TASKS: [*samples(ItemKind.TASK, 2), task],
    }
    for kind, records_ in writes.items():
        done = store.apply(folders[kind], [Create(record) for record in records_])
        assert all(isinstance(d, Applied) for d in done), done
    answers: list[bytes] = []
    transport.rewrite = lambda body: answers.append(body) or body
    for folder_id in folders.values():
        _read_all(store, folder_id)
    store.close()
    return app, [a for a in answers if a.startswith(b"<?xml")]


def _keep(body: bytes) -> bytes:
    return body


def _answers() -> list[bytes]:
    return _filled()[1]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_store_reading_spoilt_answers_fails_typed_or_per_item(data: st.DataObject) -> None:
    app, _ = _filled()
    spoil = data.draw(st.integers(0, 14), label="answer to spoil")
    count = itertools.count()

    def rewrite(body: bytes) -> bytes:
        if next(count) != spoil or not body.startswith(b"<?xml"):
            return body
        if data.draw(st.integers(0, 4), label="bytes?") == 0:
            return _damaged(data, body)
        root = etree.fromstring(body)
        _mutate(data, root)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    store = OXStore("http://ox.test", "alice", CANARY, transport=_Rewriting(app, rewrite))
    try:
        for folder in store.folders():
            try:
                changes = store.changes(folder.id, None)
                ids = [ref.id for ref in changes.changed]
                got = store.fetch(folder.id, ids)
                assert sorted(got) == sorted(ids)  # nothing dropped
                assert all(isinstance(v, Item | Failure) for v in got.values()), got
                delta = store.changes(folder.id, changes.cursor)
                store.fetch(folder.id, [ref.id for ref in delta.changed])
            except OxsyncError:
                pass
    except OxsyncError:
        pass
    finally:
        store.close()


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=40),
        st.tuples(
            st.sampled_from([b"17", b"", b"x", b"\xff", b"\xd9\xa1", b"9" * 5000]),
            st.binary(max_size=8),
        ).map(lambda parts: parts[0] + b"\x01" + parts[1]),
    )
)
def test_a_push_packet_of_any_bytes_names_a_folder_or_is_ignored(packet: bytes) -> None:
    seen: list[str] = []
    listener = PushListener(("127.0.0.1", 9), 17, 1, seen.append, bind=("127.0.0.1", 0))
    try:
        listener._handle(packet)
    finally:
        listener.stop()
    assert all(folder.isascii() and folder.isdigit() for folder in seen)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["", "FBTYPE=BUSY", "FBTYPE=", "X=Y;FBTYPE=FREE"]),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "20260101T100000Z/20260101T110000Z",
                    "20260101T100000Z/PT1H",
                    "99991231T230000Z/P1D",
                ]
            ),
            st.tuples(
                st.sampled_from(["20260101T100000Z/", "99991231T000000Z/+P", ""]), _XML_TEXT
            ).map("".join),
        ),
        max_size=3,
    ),
)
def test_a_free_busy_answer_reads_or_is_a_protocol_error(params: str, periods: list[str]) -> None:
    head = "FREEBUSY" + (";" + params if params else "")
    text = f"BEGIN:VFREEBUSY\r\n{head}:{','.join(periods)}\r\nEND:VFREEBUSY\r\n"
    with contextlib.suppress(ProtocolError):
        parse_vfreebusy(text)


def test_an_object_id_that_is_no_header_value_fails_its_item(app: OXApp) -> None:
    # its files are fetched with the id in a header: httpx raised UnicodeEncodeError
    store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    contacts = next(f.id for f in store.folders() if f.kind is FolderKind.CONTACTS and f.is_default)
    filed = Contact(
        uid="filed",
        last_name="F",
        attachments=(Attachment(filename="a.txt", content_type="text/plain", data=b"hi"),),
    )
    (done,) = store.apply(contacts, [Create(filed)])
    assert isinstance(done, Applied)
    store.close()
    ident = f"<ox:object_id>{done.id}</ox:object_id>".encode()
    store = OXStore(
        "http://ox.test",
        "alice",
        CANARY,
        transport=_Rewriting(
            app, lambda body: body.replace(ident, "<ox:object_id>¡</ox:object_id>".encode())
        ),
    )
    got = _read_all(store, contacts)
    assert list(got) == ["¡"] and isinstance(got["¡"], Failure), got
    assert got["¡"].kind is FailureKind.INVALID
