"""The OX client side: hardened XML, error mapping, sessions, capture, secrets."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from oxsync.adapters.ox import (
    OutlookRole,
    OXClient,
    OXStore,
    TrafficCapture,
    parse_document,
    parse_multistatus,
    parse_vfreebusy,
    permission_for,
    role_of,
)
from oxsync.core.records import BusyStatus, Contact, Permission
from oxsync.core.store import Create
from oxsync.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    HostileInputError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    TransientError,
)
from oxsync.testing.oxserver import Fault, OXApp, OXBackend, OXTestServer
from tests.ox.conftest import CANARY

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>&lol3;</D:href></D:response></D:multistatus>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>&e;</D:href></D:response></D:multistatus>"""


def _mock(handler: object) -> OXClient:
    return OXClient("http://ox.test", "alice", CANARY, transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


# ---------------------------------------------------------------------- codec


@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL, b"<!doctype x><x/>", b"<?xml version='1.0'?>\n<!ENTITY x>"]
)
def test_documents_with_dtds_are_hostile(body: bytes) -> None:
    with pytest.raises(HostileInputError):
        parse_document(body)


def test_oversize_document_is_hostile_and_broken_ones_are_protocol_errors() -> None:
    with pytest.raises(HostileInputError):
        parse_document(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)
    for body in (b"<a><b></a>", b"<a>\xff\xfe\xfa</a>", b"", b"not xml"):
        with pytest.raises(ProtocolError) as info:
            parse_document(body)
        assert not isinstance(info.value, HostileInputError)


@pytest.mark.parametrize("status", ["HTTP/1.1 \u00b200 OK", "\u0662\u0660\u0660", "OK", ""])
def test_an_unreadable_response_status_is_a_protocol_error(status: str) -> None:
    # "\u00b200".isdigit() is true, but int() refuses it: no ValueError may escape
    body = (
        '<D:multistatus xmlns:D="DAV:"><D:response><D:href>1</D:href><D:propstat><D:prop/>'
        f"<D:status>{status}</D:status></D:propstat></D:response></D:multistatus>"
    ).encode()
    with pytest.raises(ProtocolError):
        parse_multistatus(parse_document(body))


def test_deeply_nested_document_is_refused() -> None:
    with pytest.raises(ProtocolError):
        parse_document(b"<a>" * 300_000 + b"</a>" * 300_000)


# ---------------------------------------------------------------------- error mapping


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (400, ProtocolError),
        (500, TransientError),
        (503, TransientError),
        (418, ProtocolError),
    ],
)
def test_http_statuses_map_to_typed_errors(status: int, error: type[Exception]) -> None:
    client = _mock(lambda request: httpx.Response(status, text=f"oops {CANARY}"))
    with pytest.raises(error) as info:
        client.propfind("folders", {"lastsync": 0})
    assert CANARY not in str(info.value)


def test_network_errors_become_transient_with_cause() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused for http://alice:{CANARY}@ox.test", request=request)

    for handler, cause in ((timeout, httpx.ReadTimeout), (refused, httpx.ConnectError)):
        with pytest.raises(TransientError) as info:
            _mock(handler).propfind("folders", {"lastsync": 0})
        assert isinstance(info.value.__cause__, cause)
        assert CANARY not in str(info.value)


def test_hostile_answer_from_server_is_refused(app: OXApp) -> None:
    store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    for body in (BILLION_LAUGHS, EXTERNAL):
        app.faults.add(Fault(status=207, body=body))
        with pytest.raises(HostileInputError):
            store.folders()


def test_response_over_the_size_limit_is_cut_off(app: OXApp, backend: OXBackend) -> None:
    store = OXStore(
        "http://ox.test", "alice", CANARY, max_bytes=50_000, transport=httpx.WSGITransport(app=app)
    )
    folder = backend.default_folder("alice", "contact")
    for i in range(200):
        backend.save("alice", folder, {"last_name": f"Name {i}", "note": "x" * 300})
    with pytest.raises(HostileInputError):
        store.changes(str(folder), None)


def test_huge_streamed_body_is_cut_off_without_reading_it_all() -> None:
    sent = []

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(200 * 1024):  # 200 MB if read to the end
            sent.append(1)
            yield b"x" * 1024

    client = _mock(lambda request: httpx.Response(207, content=chunks()))
    with pytest.raises(HostileInputError):
        client.propfind("folders", {"lastsync": 0})
    assert len(sent) < 70 * 1024


# ---------------------------------------------------------------------- sessions


def test_basic_auth_once_then_the_session_cookie(app: OXApp) -> None:
    seen: list[tuple[bool, bool]] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(
            ("authorization" in request.headers, "sessionid=" in request.headers.get("cookie", ""))
        )
        return transport.handle_request(request)

    transport = httpx.WSGITransport(app=app)
    store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.MockTransport(spy))
    store.folders()
    store.folders()
    assert seen[0] == (True, False)
    assert all(s == (False, True) for s in seen[1:])
    app.sessions.clear()  # the server forgot the session: log in again, transparently
    store.folders()
    assert seen[-2] == (False, True) and seen[-1] == (True, False)


def test_wrong_password_is_an_authentication_error(app: OXApp) -> None:
    store = OXStore("http://ox.test", "alice", "wrong", transport=httpx.WSGITransport(app=app))
    with pytest.raises(AuthenticationError):
        store.folders()


def test_version_is_read_without_auth(app: OXApp) -> None:
    store = OXStore("http://ox.test", "alice", "whatever", transport=httpx.WSGITransport(app=app))
    assert store.server_version() == "6.22.0-Rev1"


# ---------------------------------------------------------------------- secrets


def test_canary_password_never_in_logs_errors_or_capture(
    app: OXApp, backend: OXBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = OXStore(
        "http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app), capture=True
    )
    folder = str(backend.default_folder("alice", "contact"))
    store.apply(folder, [Create(Contact(last_name="Canary", note=f"pw is {CANARY}"))])
    store.changes(folder, None)
    app.faults.add(Fault(status=500))
    with pytest.raises(TransientError) as info:
        store.folders()
    bad = OXStore(
        "http://ox.test",
        "alice",
        CANARY + "x",
        transport=httpx.WSGITransport(app=app),
        capture=store.capture,
    )
    with pytest.raises(AuthenticationError) as auth:
        bad.folders()
    assert store.capture is not None
    dump = store.capture.dump()
    assert "PROPPATCH" in dump and "Canary" in dump
    session = app.sessions and next(iter(app.sessions))
    for text in (dump, caplog.text, str(info.value), repr(info.value), str(auth.value)):
        assert CANARY not in text
        for secret in (CANARY, CANARY + "x"):
            token = base64.b64encode(f"alice:{secret}".encode()).decode()
            assert token not in text and token[:12] not in text
        assert not session or session not in text
    assert "authorization: ***" in dump.lower() and "set-cookie: ***" in dump.lower()


def test_capture_is_bounded() -> None:
    capture = TrafficCapture(max_entries=3, max_body=10)
    for i in range(5):
        capture.record("GET", f"http://x/{i}", [], b"y" * 100)
    entries = capture.entries()
    assert [e.url for e in entries] == ["http://x/2", "http://x/3", "http://x/4"]
    assert entries[0].request_body.startswith("y" * 10 + "…")


# ---------------------------------------------------------------------- faults over loopback


def test_server_errors_timeouts_and_drops_over_loopback(backend: OXBackend) -> None:
    with OXTestServer(backend) as server:
        store = OXStore(server.url, "alice", CANARY, timeout=1.0)
        folder = str(backend.default_folder("alice", "contact"))
        store.changes(folder, None)
        server.faults.add(Fault(status=502))
        with pytest.raises(TransientError):
            store.changes(folder, None)
        server.faults.add(Fault(truncate=True))
        with pytest.raises(TransientError):
            store.changes(folder, None)
        server.faults.delay = 3.0
        with pytest.raises(TransientError) as info:
            store.changes(folder, None)
        assert "timed out" in str(info.value)
        server.faults.delay = 0.0
        server.stop_http()
        with pytest.raises(TransientError):
            store.changes(folder, None)
        server.start()
        assert store.changes(folder, None).full
        store.close()


# ---------------------------------------------------------------------- free/busy, roles


def test_free_busy_through_the_store(app: OXApp, backend: OXBackend) -> None:
    folder = backend.default_folder("alice", "calendar")
    start = int(datetime(2026, 3, 2, 9, tzinfo=UTC).timestamp() * 1000)
    backend.save(
        "alice",
        folder,
        {"title": "x", "start_date": start, "end_date": start + 3_600_000, "shown_as": 2},
    )
    store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    (busy,) = store.free_busy("alice@example.org", date(2026, 3, 1), date(2026, 3, 5))
    assert busy.start == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert busy.end == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert (busy.fbtype, busy.busy_status) == ("BUSY-UNAVAILABLE", BusyStatus.TENTATIVE)
    with pytest.raises(NotFoundError):
        store.free_busy("nobody@example.org", date(2026, 3, 1), date(2026, 3, 5))


def test_vfreebusy_parsing_handles_folding_lists_and_durations() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\nFREEBUSY;FBTYPE=FREE:20260101T100000Z/2026"
        "\r\n 0101T110000Z,20260102T100000Z/PT30M\r\nFREEBUSY:20260103T000000Z/P1D\r\n"
        "END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
    )
    got = parse_vfreebusy(text)
    assert [(b.start.day, b.end - b.start, b.fbtype) for b in got] == [
        (1, datetime(2026, 1, 1, 11) - datetime(2026, 1, 1, 10), "FREE"),
        (2, datetime(2026, 1, 1, 0, 30) - datetime(2026, 1, 1), "FREE"),
        (3, datetime(2026, 1, 2) - datetime(2026, 1, 1), "BUSY"),
    ]
    with pytest.raises(ProtocolError):
        parse_vfreebusy("FREEBUSY:garbage")


def test_every_outlook_role_maps_to_ox_levels_and_back() -> None:
    for role in OutlookRole:
        if role is OutlookRole.CUSTOM:
            continue
        assert role_of(permission_for(role, "17")) is role
    read_own = Permission(entity="17", folder_level=2, read_level=2)
    assert role_of(read_own) is OutlookRole.CUSTOM
    owner_small = Permission(
        entity="1", folder_level=8, read_level=4, write_level=4, delete_level=4, admin=True
    )
    assert role_of(owner_small) is OutlookRole.OWNER


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as info:
        OXStore(f"https://alice:{CANARY}@ox.example.org", "alice", CANARY)
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigError):
        OXStore("ox.example.org", "alice", CANARY)


def test_child_text_prefers_ox_then_dav_then_any_namespace() -> None:
    from oxsync.adapters.ox._codec import child_text

    def prop(inner: str) -> Any:
        return parse_document(
            (
                '<D:prop xmlns:D="DAV:" xmlns:ox="http://www.open-xchange.org" '
                f'xmlns:x="urn:other">{inner}</D:prop>'
            ).encode()
        )

    both = prop("<x:n>other</x:n><D:n>dav</D:n><ox:n> ox </ox:n>")
    assert child_text(both, "n") == "ox"  # stripped, and ox wins over document order
    assert child_text(prop("<x:n>other</x:n><D:n>dav</D:n>"), "n") == "dav"
    assert child_text(prop("<x:n>other</x:n>"), "n") == "other"
    assert child_text(prop("<ox:n>  </ox:n><D:n>dav</D:n>"), "n") is None  # first match rules
    assert child_text(prop("<ox:n/>"), "n") is None
    assert child_text(prop("<ox:m>1</ox:m>"), "n") is None
    assert child_text(prop("<ox:n><ox:inner>x</ox:inner></ox:n>"), "n") is None
