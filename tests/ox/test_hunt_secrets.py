"""Secrets (password, Basic token, session cookies) in logs, errors and captures."""

from __future__ import annotations

import base64
import json
import logging

import httpx
import pytest

from oxsync.adapters.ox import OXClient, OXStore, TrafficCapture
from oxsync.errors import ConfigError, OxsyncError, ProtocolError, TransientError
from oxsync.testing.oxserver import Fault, OXBackend, OXTestServer
from tests.ox.conftest import CANARY

TOKEN = base64.b64encode(f"alice:{CANARY}".encode()).decode()
EMPTY = b'<D:multistatus xmlns:D="DAV:"/>'


def _client(handler: object, capture: TrafficCapture | None = None) -> OXClient:
    return OXClient(
        "http://ox.test",
        "alice",
        CANARY,
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        capture=capture,
    )


def test_session_cookie_never_reaches_a_debug_log_over_real_http(
    backend: OXBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # httpcore logs every response's headers at DEBUG, Set-Cookie: sessionid=... included
    caplog.set_level(logging.DEBUG)
    with OXTestServer(backend) as server:
        store = OXStore(server.url, "alice", CANARY, timeout=5.0)
        store.folders()
        server.faults.add(Fault(status=503))
        with pytest.raises(TransientError):
            store.folders()
        store.close()
        sessions = list(server.app.sessions)
    assert sessions
    assert "receive_response_headers" in caplog.text  # httpcore did log the headers
    for secret in (CANARY, TOKEN, *sessions):
        assert secret not in caplog.text
    assert "(b'Set-Cookie', b'***')" in caplog.text


def test_an_echoed_authorization_header_is_redacted_everywhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A proxy or debug page that echoes the request headers (JSON, a dict repr) put the
    # Basic token in the error message and the capture: redact() only knew the password
    # and the "Authorization: value" form.
    caplog.set_level(logging.DEBUG)

    def echo(request: httpx.Request) -> httpx.Response:
        seen = {"authorization": request.headers.get("authorization", "")}
        return httpx.Response(400, content=json.dumps(seen).encode())

    capture = TrafficCapture()
    client = _client(echo, capture)
    with pytest.raises(ProtocolError) as info:
        client.propfind("folders", {"lastsync": 0})
    for text in (str(info.value), repr(info.value), capture.dump(), caplog.text):
        assert TOKEN not in text
        assert TOKEN[:12] not in text


def test_two_session_cookies_are_no_crash_and_both_are_secret() -> None:
    # httpx's cookies.get raised CookieConflict (no OxsyncError) on every answer
    # setting sessionid twice (e.g. a proxy's cookie of the same name on another path)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(
                207,
                content=EMPTY,
                headers=[
                    ("Set-Cookie", "sessionid=proxy-sess-1; Path=/"),
                    ("Set-Cookie", "sessionid=ox-sess-2; Path=/servlet"),
                ],
            )
        return httpx.Response(500, content=b"broken: proxy-sess-1 ox-sess-2")

    capture = TrafficCapture()
    client = _client(handler, capture)
    assert client.propfind("folders", {"lastsync": 0}) == []
    with pytest.raises(TransientError) as info:
        client.propfind("folders", {"lastsync": 0})
    assert "Cookie" in calls[1].headers and "Authorization" not in calls[1].headers
    for text in (str(info.value), capture.dump()):
        assert "proxy-sess-1" not in text and "ox-sess-2" not in text


@pytest.mark.parametrize("value", ["s\xe9ss", "caf\xe9-\xff"])
def test_a_session_cookie_that_is_no_header_value_is_not_used(value: str) -> None:
    # it was sent back as "Cookie: sessionid=<value>": every later request of the store
    # failed with "a request header is not ASCII", for good (the session was kept)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        cookie = f"sessionid={value}; Path=/".encode("latin-1")
        return httpx.Response(207, content=EMPTY, headers=[(b"Set-Cookie", cookie)])

    client = _client(handler)
    for _ in range(3):
        assert client.propfind("folders", {"lastsync": 0}) == []
    assert all("Authorization" in r.headers for r in calls)


@pytest.mark.parametrize(
    "url",
    [
        "http//alice:{pw}@ox.example.org",  # a typo in the scheme
        "htp://alice:{pw}@ox.example.org",
        "ftp://alice:ab@{pw}@ox.example.org",  # an @ in the password
        "http://alice:ab/{pw}@ox.example.org",  # a / in it: the URL's host is "alice"
        "http://alice:12/{pw}@ox.example.org",  # ... on port 12
        "http://alice:ab#{pw}@ox.example.org",
        "https://alice:{pw}@[::1",
    ],
)
def test_credentials_in_a_malformed_url_are_never_echoed(url: str) -> None:
    # The ConfigError showed redact(url), which misses userinfo that is no
    # "scheme://user:pass@"; other forms raised httpx.InvalidURL naming part of it
    # ("Invalid port: 'ab'") or were accepted with the password in the path.
    url = url.format(pw=CANARY)
    with pytest.raises(ConfigError) as info:
        OXClient(url, "alice", CANARY)
    assert CANARY not in str(info.value) and "ab" not in str(info.value).replace("base_url", "")


@pytest.mark.parametrize("url", ["http://ox.example.org:99999", "http://[::1"])
def test_a_url_with_a_bad_port_or_host_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="base URL"):
        OXClient(url, "alice", "pw")


def test_a_redirect_to_another_host_is_not_followed_and_leaks_nothing() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        location = f"http://alice:{CANARY}@evil.example/login?sessionid=abcdef123456"
        return httpx.Response(302, headers={"Location": location}, content=b"moved")

    capture = TrafficCapture()
    client = _client(handler, capture)
    with pytest.raises(OxsyncError) as info:
        client.propfind("folders", {"lastsync": 0})
    assert hosts == ["ox.test"]
    for text in (str(info.value), capture.dump()):
        assert CANARY not in text and TOKEN not in text and "abcdef123456" not in text


def test_a_secret_across_the_cut_of_a_captured_body_leaves_no_prefix() -> None:
    capture = TrafficCapture(max_body=100, secrets=[CANARY])
    capture.record("GET", "http://ox/x", [], b"a" * 95 + CANARY.encode() + b"b" * 20)
    capture.record(
        "GET", "http://ox/x", [], b"", response_body=b"a" * 97 + CANARY.encode() + b"b" * 20
    )
    for entry in capture.entries():
        assert CANARY[:3] not in entry.request_body + entry.response_body
