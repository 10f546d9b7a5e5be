"""Fixtures: an OX test server in-process (WSGI transport) and on loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from oxsync.adapters.ox import OXStore
from oxsync.testing.oxserver import OXApp, OXBackend, OXTestServer

CANARY = "canary-Pw-7f3a9c"
"""Password of alice in every test: it must never show in logs, errors or captures."""


@pytest.fixture
def backend() -> OXBackend:
    """A context with users alice (canary password), bob and carol."""
    b = OXBackend()
    b.add_user("alice", CANARY, display_name="Alice Adams")
    b.add_user("bob", "bob-pw", display_name="Bob Brown")
    b.add_user("carol", "carol-pw", display_name="Carol Clark")
    return b


@pytest.fixture
def app(backend: OXBackend) -> OXApp:
    """The WSGI application over the backend."""
    return OXApp(backend)


def http(app: OXApp, user: str = "alice", password: str = CANARY) -> httpx.Client:
    """A raw httpx client talking to the app in-process with Basic auth."""
    return httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://ox.test", auth=(user, password)
    )


@pytest.fixture
def store(app: OXApp) -> Iterator[OXStore]:
    """alice's OXStore over the in-process transport, capturing traffic."""
    s = OXStore(
        "http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app), capture=True
    )
    yield s
    s.close()


@pytest.fixture
def server(backend: OXBackend) -> Iterator[OXTestServer]:
    """The backend served on 127.0.0.1 (HTTP and UDP push, OS-chosen ports)."""
    with OXTestServer(backend, push_delay=0.02) as srv:
        yield srv


@pytest.fixture
def loop_store(server: OXTestServer) -> Iterator[OXStore]:
    """alice's OXStore over real loopback HTTP."""
    s = OXStore(server.url, "alice", CANARY, timeout=5.0, capture=True)
    yield s
    s.close()
