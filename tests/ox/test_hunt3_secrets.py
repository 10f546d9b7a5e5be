"""Secrets in the text of HTTP error answers: broken up, cut or escaped by the page."""

from __future__ import annotations

import html
import json
import logging
from urllib.parse import quote, quote_plus

import httpx
import pytest

from oxsync.adapters.ox import OXClient, OXStore, TrafficCapture
from oxsync.errors import OxsyncError
from tests.ox.helpers import one_kind_engine


def _failing(password: str, body: bytes, capture: TrafficCapture) -> OxsyncError:
    client = OXClient(
        "http://ox.test",
        "alice",
        password,
        transport=httpx.MockTransport(lambda request: httpx.Response(500, content=body)),
        capture=capture,
    )
    with pytest.raises(OxsyncError) as caught:
        client.request("PROPFIND", "contacts", b"<x/>")
    client.close()
    return caught.value


def _texts(error: OxsyncError, capture: TrafficCapture, caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join([str(error), repr(error), capture.dump(), caplog.text])


def test_a_password_with_tags_echoed_in_an_error_page_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the page's tags were stripped before the password was looked for: "se<cr>et"
    # became "se et" and went into the message unredacted
    caplog.set_level(logging.DEBUG)
    password = "se<cr>et-Pw-4711"
    capture = TrafficCapture()
    body = f"<html><body>login failed for password {password}</body></html>".encode()
    error = _failing(password, body, capture)
    assert "login failed" in str(error)
    text = _texts(error, capture, caplog)
    assert password not in text and "et-Pw-4711" not in text


def test_a_password_cut_by_the_error_excerpt_leaves_no_prefix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the body was cut at 400 bytes before redaction; the tags before it shrink to
    # nothing, so the first 8 characters of the password reached the message
    caplog.set_level(logging.DEBUG)
    password = "canary-Pw-7f3a9c"
    capture = TrafficCapture()
    body = b"<br>" * 98 + password.encode() + b" more"
    error = _failing(password, body, capture)
    assert password[:6] not in _texts(error, capture, caplog)


@pytest.mark.parametrize(
    "echo",
    [
        lambda p: html.escape(p, quote=False),
        html.escape,
        lambda p: quote(p, safe=""),
        quote_plus,
        lambda p: json.dumps(p)[1:-1],
    ],
    ids=["html", "html-attribute", "url", "form", "json"],
)
def test_an_escaped_echo_of_the_password_is_redacted(
    echo: object, caplog: pytest.LogCaptureFixture
) -> None:
    # an error page or proxy echoing the login (a form, a URL, JSON) escapes the
    # password, which then matched no known secret
    caplog.set_level(logging.DEBUG)
    password = 'a&b<c>"d/e f\\g@-Pw-99'
    escaped = echo(password)  # type: ignore[operator]
    assert escaped != password
    capture = TrafficCapture()
    error = _failing(password, f"<p>you sent {escaped} as password</p>".encode(), capture)
    text = _texts(error, capture, caplog)
    assert escaped not in text and "-Pw-99" not in text, text


def test_repr_of_store_client_and_capture_names_no_secret() -> None:
    password = "canary-Pw-7f3a9c"
    store = OXStore(
        "http://ox.test",
        "alice",
        password,
        capture=True,
        transport=httpx.MockTransport(lambda request: httpx.Response(500)),
    )
    assert store.capture is not None
    for obj in (store, store.client, store.capture, store.client._http):
        assert password not in repr(obj) and password not in str(obj)
    store.close()


def test_a_secret_across_the_bytes_a_capture_reads_leaves_no_prefix() -> None:
    # bodies were decoded from their first 4 * max_body bytes and redacted: with wide
    # characters those bytes hold no more than max_body characters, so the prefix of a
    # secret cut there was kept
    capture = TrafficCapture(max_body=10, secrets=["hunter2-secret"])
    capture.record("GET", "http://ox/x", [], "😀".encode() * 8 + b"hunter2-secret")
    (entry,) = capture.entries()
    assert "hu" not in entry.request_body, entry.request_body


def test_a_whole_sync_at_debug_with_errors_leaks_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # over real HTTP, DEBUG everywhere, the capture on: a sync, a server restart (the
    # session cookie refused, Basic again), a 503, a refused password, a request httpcore
    # refuses; no password, Basic token or session id in any log line, capture entry,
    # error message, report or repr
    import base64

    from oxsync.adapters.memory import MemoryStore
    from oxsync.core.records import Contact, FolderKind
    from oxsync.errors import AuthenticationError, ProtocolError, TransientError
    from oxsync.testing.oxserver import Fault, OXBackend, OXTestServer

    caplog.set_level(logging.DEBUG)
    password = "canary-Pw-7f3a9c"
    backend = OXBackend()
    backend.add_user("alice", password)
    texts: list[str] = []
    sessions: set[str] = set()
    with OXTestServer(backend) as server:
        ox = OXStore(server.url, "alice", password, timeout=5.0, capture=True)
        mem = MemoryStore()
        mem.put("contacts", Contact(uid="m", last_name="M"))
        engine = one_kind_engine(ox, mem, FolderKind.CONTACTS)
        texts.append(repr(engine.sync()))
        sessions |= set(server.app.sessions)
        server.restart()
        backend.save("alice", backend.default_folder("alice", "contact"), {"last_name": "O"})
        texts.append(repr(engine.sync()))
        sessions |= set(server.app.sessions)
        server.faults.add(Fault(status=503))
        with pytest.raises(TransientError) as down:
            ox.folders()
        with pytest.raises(ProtocolError) as refused:
            ox.client.get_attachment(7, "1", "1\n2", "3")
        wrong = OXStore(server.url, "alice", password + "x", timeout=5.0, capture=ox.capture)
        with pytest.raises(AuthenticationError) as auth:
            wrong.folders()
        sessions |= set(server.app.sessions)
        for error in (down.value, refused.value, auth.value):
            texts += [str(error), repr(error), str(error.__cause__ or "")]
        assert ox.capture is not None
        texts += [ox.capture.dump(), repr(ox.capture.entries()), repr(ox), repr(ox.client)]
        ox.close()
        wrong.close()
    texts.append(caplog.text)
    assert sessions and "receive_response_headers" in caplog.text
    secrets = [password, password + "x", *sessions]
    secrets += [
        base64.b64encode(f"alice:{p}".encode()).decode() for p in (password, password + "x")
    ]
    everything = "\n".join(texts)
    for secret in secrets:
        assert secret not in everything
        assert secret[:10] not in everything
